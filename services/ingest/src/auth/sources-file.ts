import { readFileSync } from 'node:fs';
import { parseSources, SourcesFileError, type SourcesFile } from '@hr-events/contract';

/**
 * Reads and validates the sources file at `path` once, at start. Throws SourcesFileError naming the
 * file, each invalid entry and its fix. The clear-text `localDevelopmentKey` values that the local
 * file carries are not read: the ingest uses only the hashes.
 */
export function loadSourcesFile(path: string, knownTypes: readonly string[]): SourcesFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : (error as Error).message;
    throw new SourcesFileError(path, [`Cannot read it: ${reason}. Set SOURCES_FILE to the path of a sources file (config/local-sources.json for the local stack).`]);
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SourcesFileError(path, [`It is not valid JSON: ${(error as Error).message}. Fix the JSON syntax there.`]);
  }
  return parseSources(value, { origin: path, knownTypes });
}
