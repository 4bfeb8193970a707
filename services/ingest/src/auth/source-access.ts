import { authorize, sourcePolicyOf, type FieldProblem, type HrCloudEvent, type RateLimit, type SourcePolicy, type SourcesFile } from '@hr-events/contract';
import type { Logger } from 'pino';
import { addLogFields, type IngestContext } from '../context.ts';
import type { EventMode } from '../media-type.ts';
import { forbiddenEvents, rateLimited, tooManyEventsAtOnce, unauthenticated, unregisteredServiceAccount, verificationUnavailable } from './access-problems.ts';
import { ApiKeyVerifier } from './api-keys.ts';
import { IdTokenVerifier, type CertificateSource } from './id-tokens.ts';
import { RateLimiter } from './rate-limiter.ts';

// Who is calling, what they may send, and how fast: the checks every request to /v1/events passes.
// The order keeps rejections cheap. Credentials and the first token of the rate limit are checked
// from the headers, before the body is read. The policy and the rest of a batch's cost are checked
// once the events are parsed, before anything is published.

export interface Principal extends SourcePolicy {
  readonly rateLimit: RateLimit;
}

export interface SourceAccessOptions {
  sources: SourcesFile;
  /** Accepted audiences of ID tokens (INGEST_AUDIENCE); may be empty when no principal uses ID tokens. */
  audiences: readonly string[];
  /** Google's certificates by default; tests pass their own. */
  certificates?: CertificateSource;
  /** Monotonic clock in milliseconds, for the rate limits. */
  now?: () => number;
  logger: Logger;
  /** Sent in `Retry-After` when ID tokens cannot be verified for a while. */
  retryAfterSeconds: number;
}

const apiKeyHeader = 'x-api-key';

export class SourceAccess {
  readonly principals: ReadonlyMap<string, Principal>;

  private readonly principalsByServiceAccount = new Map<string, Principal>();

  private readonly apiKeys: ApiKeyVerifier;

  /** Undefined when no principal authenticates with ID tokens, so a token is rejected without a certificate fetch. */
  private readonly idTokens: IdTokenVerifier | undefined;

  private readonly rateLimiter: RateLimiter;

  private readonly options: SourceAccessOptions;

  constructor(options: SourceAccessOptions) {
    this.options = options;
    const principals = new Map<string, Principal>();
    for (const entry of options.sources.principals) {
      const principal: Principal = { ...sourcePolicyOf(entry), rateLimit: entry.rateLimit };
      principals.set(entry.name, principal);
      for (const email of entry.serviceAccounts) this.principalsByServiceAccount.set(email, principal);
    }
    this.principals = principals;

    const tokenUsers = options.sources.principals.filter((entry) => entry.serviceAccounts.length > 0).map((entry) => entry.name);
    if (tokenUsers.length > 0 && options.audiences.length === 0) {
      throw new Error(
        `The sources ${tokenUsers.join(', ')} list service accounts, which authenticate with ID tokens, but INGEST_AUDIENCE is not set; ` +
          'set it to the ingest URL that the tokens are issued for.',
      );
    }
    this.apiKeys = new ApiKeyVerifier(options.sources.principals);
    this.idTokens = tokenUsers.length > 0 ? new IdTokenVerifier({ audiences: [...options.audiences], certificates: options.certificates }) : undefined;
    this.rateLimiter = new RateLimiter([...principals].map(([name, principal]) => [name, principal.rateLimit]), options.now);
  }

  /** Authenticates the request from its headers and takes one rate-limit token for it; throws a 401, 403, 429 or 503 problem. */
  async admit(c: IngestContext): Promise<Principal> {
    const headers = c.req.raw.headers;
    const apiKey = headers.get(apiKeyHeader);
    const authorization = headers.get('authorization');

    let authenticated: Authenticated;
    if (apiKey !== null && authorization !== null) {
      throw unauthenticated(c, 'two-credentials', 'The request carries both x-api-key and Authorization; send only one credential.');
    } else if (apiKey !== null) {
      authenticated = this.authenticateApiKey(c, apiKey);
    } else if (authorization !== null) {
      authenticated = await this.authenticateIdToken(c, authorization);
    } else {
      throw unauthenticated(
        c,
        'no-credentials',
        'The request has no credentials; send the API key of your source in x-api-key, or a Google-signed ID token for the ingest URL in Authorization: Bearer.',
      );
    }

    // One call, because each call copies the request's log fields.
    const { principal, logFields } = authenticated;
    addLogFields(c, { principal: principal.name, ...logFields });
    this.charge(c, principal, 1);
    return principal;
  }

  /**
   * Checks every event against the principal's policy, then takes the rest of the request's cost
   * (one token per event, one of them already taken by `admit`). A batch is all or nothing: one
   * disallowed event rejects it with 403 listing every problem by index.
   */
  admitEvents(c: IngestContext, principal: Principal, events: readonly HrCloudEvent[], mode: EventMode): void {
    const errors: FieldProblem[] = [];
    let rejectedCount = 0;
    for (let index = 0; index < events.length; index += 1) {
      const violations = authorize(principal, events[index] as HrCloudEvent);
      if (violations.length === 0) continue;
      rejectedCount += 1;
      for (const violation of violations) errors.push({ pointer: pointerOf(mode, index, violation.attribute), detail: violation.detail });
    }
    if (errors.length > 0) throw forbiddenEvents(principal, errors, rejectedCount, events.length, mode === 'batch');

    // A batch larger than the bucket could never pass; waiting would not help, so this is no 429.
    if (events.length > principal.rateLimit.burst) throw tooManyEventsAtOnce(principal, events.length);
    this.charge(c, principal, events.length - 1);
  }

  /** Returns whether the principal may read the status of events from `source`: only of sources it may send. */
  mayRead(principal: Principal, source: string): boolean {
    return principal.sources.has(source);
  }

  private charge(c: IngestContext, principal: Principal, cost: number): void {
    const result = this.rateLimiter.take(principal.name, cost);
    if (!result.isAllowed) throw rateLimited(c, principal, result.retryAfterSeconds);
  }

  private authenticateApiKey(c: IngestContext, key: string): Authenticated {
    const result = this.apiKeys.verify(key.trim());
    if (result.failure !== undefined) addLogFields(c, { credential: 'api-key', keyId: result.keyId, claimedPrincipal: result.principal });
    if (result.failure === 'malformed-key') {
      throw unauthenticated(c, result.failure, 'The x-api-key value is not an hr-events API key, which has the form hrk.<source>.<key id>.<secret>, where the secret is 43 characters of A-Z, a-z, 0-9, "_" and "-"; check that the whole key was sent.');
    }
    if (result.failure !== undefined) {
      throw unauthenticated(c, result.failure, 'The API key in x-api-key is not valid: it is unknown or was revoked. Ask the operator of the ingest for a new key.');
    }
    return { principal: this.principals.get(result.principal) as Principal, logFields: { credential: 'api-key', keyId: result.keyId } };
  }

  private async authenticateIdToken(c: IngestContext, authorization: string): Promise<Authenticated> {
    addLogFields(c, { credential: 'id-token' });
    const token = /^Bearer +([^\s]+) *$/i.exec(authorization)?.[1];
    if (token === undefined) {
      throw unauthenticated(c, 'unsupported-scheme', 'The Authorization header must be "Bearer <ID token>"; send an API key in x-api-key instead if your source has one.');
    }
    if (this.idTokens === undefined) {
      throw unauthenticated(c, 'id-tokens-not-configured', 'This ingest has no source that authenticates with ID tokens; send the API key of your source in x-api-key.', true);
    }

    const result = await this.idTokens.verify(token);
    if (result.failure !== undefined && result.status === 503) {
      this.options.logger.error({ err: result.error, authFailure: result.failure }, `${result.detail}; responded with 503`);
      throw verificationUnavailable(c, this.options.retryAfterSeconds);
    }
    if (result.failure !== undefined) throw unauthenticated(c, result.failure, `The ID token is not valid: ${result.detail}.`, true);

    const principal = this.principalsByServiceAccount.get(result.email);
    if (principal === undefined) {
      addLogFields(c, { authFailure: 'unregistered-service-account', serviceAccount: result.email });
      throw unregisteredServiceAccount(result.email);
    }
    return { principal, logFields: { serviceAccount: result.email } };
  }
}

/** A principal, and the log fields that say how it authenticated. */
interface Authenticated {
  principal: Principal;
  logFields: Record<string, unknown>;
}

function pointerOf(mode: EventMode, index: number, attribute: string): string {
  if (mode === 'batch') return `/${index}/${attribute}`;
  return mode === 'binary' ? `/headers/ce-${attribute}` : `/${attribute}`;
}
