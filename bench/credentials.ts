import { readFileSync } from 'node:fs';

// The ingest authenticates every source. The benchmark sends as the "benchmark" principal of the
// local sources file, whose rate limit is far above any load here, with that principal's local
// development key in x-api-key. A 429 would still be counted apart from other responses.

export const sourcesFilePath = 'config/local-sources.json';
export const benchmarkPrincipal = 'benchmark';

export interface BenchCredentials {
  /** Headers for every request to the ingest. */
  headers: Record<string, string>;
  /** Environment for every ingest process. */
  ingestEnvironment: Record<string, string>;
  /** The principal's limit in events per second, to report next to the load. */
  eventsPerSecondLimit: number;
}

interface LocalSourcesFile {
  principals?: { name?: string; rateLimit?: { eventsPerSecond?: number }; apiKeys?: { localDevelopmentKey?: string }[] }[];
}

export function readBenchCredentials(path = sourcesFilePath): BenchCredentials {
  const file = JSON.parse(readFileSync(path, 'utf8')) as LocalSourcesFile;
  const principal = file.principals?.find((entry) => entry.name === benchmarkPrincipal);
  const key = principal?.apiKeys?.find((entry) => typeof entry.localDevelopmentKey === 'string')?.localDevelopmentKey;
  if (principal === undefined || key === undefined) {
    throw new Error(
      `${path} has no principal "${benchmarkPrincipal}" with a localDevelopmentKey; add one that may send source hr-system and type hr.employee.hired ` +
        'with a rate limit above the benchmark load (see docs/sources.md).',
    );
  }
  return {
    headers: { 'x-api-key': key },
    ingestEnvironment: { SOURCES_FILE: path },
    eventsPerSecondLimit: principal.rateLimit?.eventsPerSecond ?? 0,
  };
}
