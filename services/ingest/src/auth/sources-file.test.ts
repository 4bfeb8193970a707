import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourcesFileError } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { loadSourcesFile } from './sources-file.ts';

const knownTypes = ['hr.contractor.engaged', 'hr.employee.hired'];
const directory = mkdtempSync(join(tmpdir(), 'sources-file-'));

function fileWith(text: string): string {
  const path = join(directory, `sources-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, text);
  return path;
}

function errorOf(path: string): SourcesFileError {
  try {
    loadSourcesFile(path, knownTypes);
  } catch (error) {
    if (error instanceof SourcesFileError) return error;
    throw error;
  }
  throw new Error(`${path} was accepted`);
}

describe('loadSourcesFile', () => {
  it('reads hashes and ignores development keys', () => {
    const path = fileWith(
      JSON.stringify({
        principals: [
          {
            name: 'hr-system',
            sources: ['hr-system'],
            types: ['hr.employee.hired'],
            rateLimit: { eventsPerSecond: 10, burst: 20 },
            apiKeys: [{ id: 'k1', sha256: 'a'.repeat(64), localDevelopmentKey: 'hrk.hr-system.k1.secret' }],
          },
        ],
      }),
    );
    expect(loadSourcesFile(path, knownTypes).principals[0]?.apiKeys).toEqual([{ id: 'k1', sha256: 'a'.repeat(64) }]);
  });

  it('missing file names the setting', () => {
    const error = errorOf(join(directory, 'absent.json'));
    expect(error.message).toBe(
      `Invalid sources file ${join(directory, 'absent.json')}: Cannot read it: the file does not exist. ` +
        'Set SOURCES_FILE to the path of a sources file (config/local-sources.json for the local stack).',
    );
  });

  it('broken json names the token', () => {
    expect(errorOf(fileWith('{"principals": [,]}')).problems[0]).toMatch(/^It is not valid JSON: Unexpected token ','.*\. Fix the JSON syntax there\.$/);
  });

  it('invalid entry names the principal', () => {
    const path = fileWith(JSON.stringify({ principals: [{ name: 'vendor-office', sources: ['vendor-office'], types: ['hr.contractor.engaged'], rateLimit: { eventsPerSecond: 5, burst: 0 } }] }));
    expect(errorOf(path).problems).toEqual(['principals[0] ("vendor-office"): "rateLimit.burst" must be a whole number from 1 to 1000000, found 0.']);
  });
});
