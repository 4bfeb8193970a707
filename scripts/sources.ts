import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createApiKey, loadCatalog, parseSources, SourcesFileError, type SourcesFile } from '@hr-events/contract';

// `npm run sources -- <command>`: issues and revokes the API keys of the ingest's sources in a
// sources file. `issue` prints the new key once, on standard output, and stores only its SHA-256.
// The ingest reads the file at start, so a change takes effect when the ingest restarts (local
// stack) or when `pulumi up` deploys the file (docs/sources.md).

const usage = `Usage:
  npm run sources -- issue <source> [--file F]           create an API key for <source>, print it once, store its hash
  npm run sources -- revoke <source> <key-id> [--file F] remove the key <key-id> of <source>
  npm run sources -- list [--file F]                     show the sources, their policies and key ids

<source> is the name of a principal in the file. F defaults to $SOURCES_FILE, else config/local-sources.json.
Use \`npm run --silent sources -- issue ...\` to get only the key on standard output.`;

/** A mistake in the command line or the file that the user must fix; printed without a stack trace. */
class CommandError extends Error {}

type RawFile = { principals: RawPrincipal[] } & Record<string, unknown>;
type RawPrincipal = { name?: unknown; apiKeys?: RawKey[] } & Record<string, unknown>;
type RawKey = { id?: unknown } & Record<string, unknown>;

export function issueKey(file: string, principalName: string, now = new Date()): { key: string; keyId: string } {
  const { raw } = readSources(file);
  const principal = findPrincipal(raw, principalName, file);

  const existing = new Set((principal.apiKeys ?? []).map((key) => key.id));
  let keyId: string;
  do keyId = `k${randomBytes(4).toString('hex')}`;
  while (existing.has(keyId));

  const { key, sha256 } = createApiKey(principalName, keyId);
  principal.apiKeys = [...(principal.apiKeys ?? []), { id: keyId, sha256, createdAt: now.toISOString() }];
  writeSources(file, raw);
  return { key, keyId };
}

export function revokeKey(file: string, principalName: string, keyId: string): { remaining: number } {
  const { raw } = readSources(file);
  const principal = findPrincipal(raw, principalName, file);
  const keys = principal.apiKeys ?? [];
  if (!keys.some((key) => key.id === keyId)) {
    const ids = keys.map((key) => String(key.id)).join(', ');
    const known = ids === '' ? 'it has no keys' : `its key ids are ${ids}`;
    throw new CommandError(`"${principalName}" has no key "${keyId}" in ${file}; ${known}.`);
  }
  principal.apiKeys = keys.filter((key) => key.id !== keyId);
  writeSources(file, raw);
  return { remaining: principal.apiKeys.length };
}

export function describeSources(file: string): string {
  const { sources } = readSources(file);
  if (sources.principals.length === 0) return `${file} lists no sources.`;
  return sources.principals
    .map((principal) =>
      [
        `${principal.name}`,
        `  sources:          ${principal.sources.join(', ')}`,
        `  types:            ${principal.types.join(', ')}`,
        `  rate limit:       ${principal.rateLimit.eventsPerSecond} events/s, burst ${principal.rateLimit.burst}`,
        `  API keys:         ${principal.apiKeys.map((key) => key.id).join(', ') || 'none'}`,
        `  service accounts: ${principal.serviceAccounts.join(', ') || 'none'}`,
      ].join('\n'),
    )
    .join('\n');
}

/** Reads the file and validates it, so a command never edits a file that the ingest would reject. */
function readSources(file: string): { raw: RawFile; sources: SourcesFile } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CommandError(`Cannot read the sources file ${file}: ${(error as Error).message}. Pass --file with the path of a sources file.`);
  }
  try {
    const sources = parseSources(raw, { origin: file, knownTypes: [...loadCatalog().types.keys()] });
    return { raw: raw as RawFile, sources };
  } catch (error) {
    if (error instanceof SourcesFileError) throw new CommandError(`${error.message}\nFix the file first; no change was made.`);
    throw error;
  }
}

function findPrincipal(raw: RawFile, name: string, file: string): RawPrincipal {
  const principal = raw.principals.find((candidate) => candidate.name === name);
  if (principal === undefined) {
    const names = raw.principals.map((candidate) => String(candidate.name)).join(', ') || 'none';
    throw new CommandError(`${file} has no source named "${name}"; its sources are: ${names}. Add the source with its policy first (docs/sources.md).`);
  }
  return principal;
}

/** Writes to a temporary file and renames it, so a reader never sees a half-written file. */
function writeSources(file: string, raw: RawFile): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(raw, null, 2)}\n`, { mode: 0o644 });
  renameSync(temporary, file);
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { file: { type: 'string', short: 'f' }, help: { type: 'boolean', short: 'h' } },
  });
  const file = values.file ?? process.env.SOURCES_FILE ?? 'config/local-sources.json';
  const [command, ...rest] = positionals;
  if (values.help === true || command === undefined) {
    console.log(usage);
    return values.help === true ? 0 : 2;
  }

  if (command === 'issue' && rest.length === 1) {
    const principal = rest[0] as string;
    const { key, keyId } = issueKey(file, principal);
    // The key goes alone to standard output so that it can be piped; the guidance goes to standard error.
    console.log(key);
    console.error(
      `Issued key ${keyId} for "${principal}" and stored its SHA-256 in ${file}. The key above is shown only this once: ` +
        'hand it to the source over a secure channel. Restart the ingest (local stack) or run `pulumi up` (deployment) for it to take effect.',
    );
    return 0;
  }
  if (command === 'revoke' && rest.length === 2) {
    const [principal, keyId] = rest as [string, string];
    const { remaining } = revokeKey(file, principal, keyId);
    console.log(`Revoked key ${keyId} of "${principal}" in ${file}. Restart the ingest (local stack) or run \`pulumi up\` (deployment) for it to take effect.`);
    if (remaining === 0) console.log(`"${principal}" has no API key left; issue a new one with \`npm run sources -- issue ${principal}\` if it still sends events.`);
    return 0;
  }
  if (command === 'list' && rest.length === 0) {
    console.log(describeSources(file));
    return 0;
  }
  console.error(`Unknown command or wrong arguments: ${positionals.join(' ')}\n\n${usage}`);
  return 2;
}

if (import.meta.main) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    const isUsageError = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    console.error(error instanceof CommandError || isUsageError ? (error as Error).message : error);
    process.exitCode = 1;
  }
}
