import { createHash, randomBytes } from 'node:crypto';
import type { SourcePrincipal } from './sources.ts';

// What an authenticated principal may send, and the API key format. The ingest checks every event
// with `authorize` before it publishes. Any other path that puts events on the HR topic, such as a
// replay of dead-lettered messages, runs the same check against the principal that the message's
// `ingest-principal` attribute names.

/** The part of a principal that decides what it may send, as sets for constant-time lookups. */
export interface SourcePolicy {
  readonly name: string;
  readonly sources: ReadonlySet<string>;
  readonly types: ReadonlySet<string>;
}

export interface PolicyViolation {
  attribute: 'source' | 'type';
  value: string;
  detail: string;
}

/** Message attribute naming the principal that sent the event; the ingest sets it on every message. */
export const principalAttribute = 'ingest-principal';

const noViolations: readonly PolicyViolation[] = Object.freeze([]);

export function sourcePolicyOf(principal: SourcePrincipal): SourcePolicy {
  return { name: principal.name, sources: new Set(principal.sources), types: new Set(principal.types) };
}

/** Returns why `policy` may not send the event: one entry per disallowed attribute, none when it may. */
export function authorize(policy: SourcePolicy, event: { source: string; type: string }): readonly PolicyViolation[] {
  const isSourceAllowed = policy.sources.has(event.source);
  const isTypeAllowed = policy.types.has(event.type);
  if (isSourceAllowed && isTypeAllowed) return noViolations;

  const violations: PolicyViolation[] = [];
  if (!isSourceAllowed) {
    violations.push({
      attribute: 'source',
      value: event.source,
      detail: `source "${event.source}" is not allowed for "${policy.name}", which may send the sources ${[...policy.sources].join(', ')}`,
    });
  }
  if (!isTypeAllowed) {
    violations.push({
      attribute: 'type',
      value: event.type,
      detail: `type "${event.type}" is not allowed for "${policy.name}", which may send the types ${[...policy.types].join(', ')}`,
    });
  }
  return violations;
}

// API keys have the form hrk.<principal>.<key id>.<secret>. The principal and key id let the ingest
// find the one stored hash to compare with, and tell in its logs which key was used without the
// secret. The secret is 32 random bytes in base64url, so a plain SHA-256 is enough to store it.

const apiKeyPrefix = 'hrk';
const apiKeyPattern = /^hrk\.([a-z][a-z0-9-]{0,62})\.([a-z0-9][a-z0-9-]{0,31})\.([A-Za-z0-9_-]{43})$/;

export interface ApiKeyName {
  principal: string;
  keyId: string;
}

/** Creates a key for the principal; only its `sha256` is stored, the key is shown once. */
export function createApiKey(principal: string, keyId: string): { key: string; sha256: string } {
  const key = `${apiKeyPrefix}.${principal}.${keyId}.${randomBytes(32).toString('base64url')}`;
  return { key, sha256: hashApiKey(key) };
}

/** Returns the principal and key id that a key names, or undefined when it is not in the key format. */
export function parseApiKey(key: string): ApiKeyName | undefined {
  const match = apiKeyPattern.exec(key);
  if (match === null) return undefined;
  return { principal: match[1] as string, keyId: match[2] as string };
}

/** Lower-case hex SHA-256 of the whole key, as the sources file stores it. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
