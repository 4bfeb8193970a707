import { maxSourceLength } from './limits.ts';

// The sources file: who may send events to the ingest, with which credentials, which CloudEvents
// `source` values and `type`s, and how fast. The ingest reads it at start (SOURCES_FILE), the
// Pulumi program stores it in Secret Manager, and `npm run sources` issues and revokes API keys in
// it. docs/sources.md describes the format.

export interface RateLimit {
  /** Tokens added to the principal's bucket per second. An event costs one token. */
  eventsPerSecond: number;
  /** Size of the bucket: the most events a principal may send at once after a pause. */
  burst: number;
}

export interface ApiKeyEntry {
  /** Key id, unique within the principal; it is also part of the key itself. */
  id: string;
  /** Lower-case hex SHA-256 of the whole key. */
  sha256: string;
}

/** One principal: a caller of the ingest, identified by its credentials. */
export interface SourcePrincipal {
  name: string;
  /** CloudEvents `source` values the principal may send. */
  sources: string[];
  /** CloudEvents `type`s the principal may send. */
  types: string[];
  rateLimit: RateLimit;
  apiKeys: ApiKeyEntry[];
  /** Google service account emails whose ID tokens authenticate as this principal, in lower case. */
  serviceAccounts: string[];
}

export interface SourcesFile {
  principals: SourcePrincipal[];
}

export interface ParseSourcesOptions {
  /** Names the file or setting in error messages, for example `config/local-sources.json`. */
  origin: string;
  /** Event types of the catalog. When given, a principal listing another type is an error. */
  knownTypes?: readonly string[];
  /**
   * Whether API key entries may carry `localDevelopmentKey`, the clear-text key of the local stack.
   * True by default; a deployment passes false so that no clear-text key leaves the developer's machine.
   */
  allowDevelopmentKeys?: boolean;
}

/** Raised for a sources file that cannot be used; `problems` names each entry and its fix. */
export class SourcesFileError extends Error {
  override readonly name = 'SourcesFileError';

  readonly problems: string[];

  constructor(origin: string, problems: string[]) {
    super(`Invalid sources file ${origin}: ${problems.join(' ')}`);
    this.problems = problems;
  }
}

export const maxEventsPerSecond = 1_000_000;
export const maxBurst = 1_000_000;

export const principalNamePattern = /^[a-z][a-z0-9-]{0,62}$/;
export const keyIdPattern = /^[a-z0-9][a-z0-9-]{0,31}$/;
const sha256Pattern = /^[0-9a-f]{64}$/;
// Google service account emails: <id>@<project>.iam.gserviceaccount.com, and the older
// <project>@appspot.gserviceaccount.com and <number>-compute@developer.gserviceaccount.com.
const serviceAccountPattern = /^[a-z0-9][a-z0-9._-]*@([a-z0-9-]+\.)*gserviceaccount\.com$/;
const sourceValuePattern = /^[^\s\u0000-\u001f\u007f]+$/;

const fileMembers = new Set(['$comment', 'principals']);
const principalMembers = new Set(['$comment', 'name', 'description', 'sources', 'types', 'rateLimit', 'apiKeys', 'serviceAccounts']);
const apiKeyMembers = new Set(['$comment', 'id', 'sha256', 'createdAt', 'localDevelopmentKey']);

/** Validates a parsed sources file and returns its principals; throws SourcesFileError listing every problem. */
export function parseSources(value: unknown, options: ParseSourcesOptions): SourcesFile {
  const problems: string[] = [];
  if (!isObject(value)) {
    throw new SourcesFileError(options.origin, ['The file must hold a JSON object with a "principals" array; docs/sources.md shows the format.']);
  }
  checkMembers(value, fileMembers, 'The file', problems);
  if (!Array.isArray(value.principals)) {
    throw new SourcesFileError(options.origin, [...problems, '"principals" must be an array of principals, possibly empty; add "principals": [].']);
  }

  const principals = value.principals.map((entry, index) => readPrincipal(entry, index, options, problems));
  const names = principals.map((principal) => principal.name).filter((name) => name !== '');
  for (const name of new Set(names.filter((name, index) => names.indexOf(name) !== index))) {
    problems.push(`The principal name "${name}" is used more than once; give each principal its own name.`);
  }
  checkUnique(principals, (principal) => principal.apiKeys.map((key) => key.sha256), 'API key sha256', problems);
  checkUnique(principals, (principal) => principal.serviceAccounts, 'service account', problems);

  if (problems.length > 0) throw new SourcesFileError(options.origin, problems);
  return { principals };
}

function readPrincipal(entry: unknown, index: number, options: ParseSourcesOptions, problems: string[]): SourcePrincipal {
  const empty: SourcePrincipal = { name: '', sources: [], types: [], rateLimit: { eventsPerSecond: 1, burst: 1 }, apiKeys: [], serviceAccounts: [] };
  if (!isObject(entry)) {
    problems.push(`principals[${index}] must be an object with name, sources, types, rateLimit and credentials.`);
    return empty;
  }
  const label = typeof entry.name === 'string' ? `principals[${index}] ("${entry.name}")` : `principals[${index}]`;
  checkMembers(entry, principalMembers, label, problems);

  const name = typeof entry.name === 'string' && principalNamePattern.test(entry.name) ? entry.name : '';
  if (name === '') {
    problems.push(`${label}: "name" must be 1 to 63 lower-case letters, digits or hyphens, starting with a letter, found ${JSON.stringify(entry.name ?? null)}.`);
  }
  const sources = readStrings(entry.sources, `${label}: "sources"`, problems, (source) =>
    source.length <= maxSourceLength && sourceValuePattern.test(source) ? undefined : `must be at most ${maxSourceLength} characters without spaces`,
  );
  const types = readStrings(entry.types, `${label}: "types"`, problems, (type) =>
    options.knownTypes === undefined || options.knownTypes.includes(type) ? undefined : `is not an event type of the catalog (${options.knownTypes.join(', ')})`,
  );

  return {
    name,
    sources,
    types,
    rateLimit: readRateLimit(entry.rateLimit, label, problems),
    apiKeys: readApiKeys(entry.apiKeys, label, name, options.allowDevelopmentKeys ?? true, problems),
    serviceAccounts: readServiceAccounts(entry.serviceAccounts, label, problems),
  };
}

/** Reads a non-empty array of strings; `check` returns why a value is invalid, or undefined. */
function readStrings(value: unknown, label: string, problems: string[], check: (item: string) => string | undefined): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push(`${label} must be a non-empty array of strings, found ${JSON.stringify(value ?? null)}.`);
    return [];
  }
  const items: string[] = [];
  for (const item of value) {
    const reason = typeof item === 'string' && item !== '' ? check(item) : 'must be a non-empty string';
    if (reason === undefined) items.push(item as string);
    else problems.push(`${label}: ${JSON.stringify(item)} ${reason}.`);
  }
  return items;
}

function readRateLimit(value: unknown, label: string, problems: string[]): RateLimit {
  const fallback = { eventsPerSecond: 1, burst: 1 };
  if (!isObject(value)) {
    problems.push(`${label}: "rateLimit" must be an object such as {"eventsPerSecond": 100, "burst": 200}, found ${JSON.stringify(value ?? null)}.`);
    return fallback;
  }
  const rate = value.eventsPerSecond;
  const burst = value.burst;
  const isRateValid = typeof rate === 'number' && rate > 0 && rate <= maxEventsPerSecond;
  const isBurstValid = typeof burst === 'number' && Number.isInteger(burst) && burst >= 1 && burst <= maxBurst;
  if (!isRateValid) {
    problems.push(`${label}: "rateLimit.eventsPerSecond" must be a number above 0 and at most ${maxEventsPerSecond}, found ${JSON.stringify(rate ?? null)}.`);
  }
  if (!isBurstValid) {
    problems.push(`${label}: "rateLimit.burst" must be a whole number from 1 to ${maxBurst}, found ${JSON.stringify(burst ?? null)}.`);
  }
  return isRateValid && isBurstValid ? { eventsPerSecond: rate, burst } : fallback;
}

function readApiKeys(value: unknown, label: string, name: string, allowDevelopmentKeys: boolean, problems: string[]): ApiKeyEntry[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push(`${label}: "apiKeys" must be an array of {"id", "sha256"} entries; issue keys with \`npm run sources -- issue ${name || '<name>'}\`.`);
    return [];
  }
  const keys: ApiKeyEntry[] = [];
  value.forEach((key: unknown, index) => {
    const keyLabel = `${label}: apiKeys[${index}]`;
    if (!isObject(key)) {
      problems.push(`${keyLabel} must be an object with "id" and "sha256".`);
      return;
    }
    checkMembers(key, apiKeyMembers, keyLabel, problems);
    const isIdValid = typeof key.id === 'string' && keyIdPattern.test(key.id);
    const isHashValid = typeof key.sha256 === 'string' && sha256Pattern.test(key.sha256);
    if (!isIdValid) problems.push(`${keyLabel}: "id" must be 1 to 32 lower-case letters, digits or hyphens, found ${JSON.stringify(key.id ?? null)}.`);
    if (!isHashValid) problems.push(`${keyLabel}: "sha256" must be 64 lower-case hex digits (the SHA-256 of the key), found ${JSON.stringify(key.sha256 ?? null)}.`);
    if (!allowDevelopmentKeys && key.localDevelopmentKey !== undefined) {
      problems.push(`${keyLabel} carries "localDevelopmentKey", a clear-text key for the local stack only; remove it, because a deployment needs only "sha256".`);
    }
    if (isIdValid && keys.some((existing) => existing.id === key.id)) {
      problems.push(`${keyLabel}: key id "${String(key.id)}" appears twice in this principal; give each key its own id.`);
    } else if (isIdValid && isHashValid) {
      keys.push({ id: key.id as string, sha256: key.sha256 as string });
    }
  });
  return keys;
}

function readServiceAccounts(value: unknown, label: string, problems: string[]): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push(`${label}: "serviceAccounts" must be an array of service account emails.`);
    return [];
  }
  const emails: string[] = [];
  for (const item of value) {
    const email = typeof item === 'string' ? item.toLowerCase() : '';
    if (serviceAccountPattern.test(email)) emails.push(email);
    else problems.push(`${label}: serviceAccounts entry ${JSON.stringify(item)} is not a Google service account email such as sender@my-project.iam.gserviceaccount.com.`);
  }
  return emails;
}

function checkMembers(value: Record<string, unknown>, allowed: Set<string>, label: string, problems: string[]): void {
  for (const member of Object.keys(value)) {
    if (!allowed.has(member)) {
      problems.push(`${label} has an unknown member "${member}"; the members are ${[...allowed].filter((name) => name !== '$comment').join(', ')}.`);
    }
  }
}

/** Reports a value that `valuesOf` yields for more than one principal. */
function checkUnique(principals: SourcePrincipal[], valuesOf: (principal: SourcePrincipal) => string[], what: string, problems: string[]): void {
  const owners = new Map<string, string>();
  for (const principal of principals) {
    for (const value of valuesOf(principal)) {
      if (value === '') continue;
      const owner = owners.get(value);
      if (owner === undefined) owners.set(value, principal.name);
      else if (owner === principal.name) problems.push(`The ${what} "${value}" appears twice in "${owner}"; list it once.`);
      else problems.push(`The ${what} "${value}" belongs to both "${owner}" and "${principal.name}"; each must belong to one principal only.`);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
