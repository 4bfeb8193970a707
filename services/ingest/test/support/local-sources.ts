import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Path of the committed development sources file, which the process tests hand to the ingest. */
export const localSourcesPath = fileURLToPath(new URL('../../../../config/local-sources.json', import.meta.url));

/** Returns the development key of a principal of config/local-sources.json. */
export function localDevelopmentKey(principal: string): string {
  const file = JSON.parse(readFileSync(localSourcesPath, 'utf8')) as { principals: { name: string; apiKeys: { localDevelopmentKey?: string }[] }[] };
  const key = file.principals.find((entry) => entry.name === principal)?.apiKeys.find((entry) => entry.localDevelopmentKey)?.localDevelopmentKey;
  if (key === undefined) throw new Error(`config/local-sources.json has no development key for "${principal}"`);
  return key;
}
