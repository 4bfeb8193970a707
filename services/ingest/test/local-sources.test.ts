import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hashApiKey, loadCatalog } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { loadSourcesFile } from '../src/auth/sources-file.ts';

// The committed development file that the local stack, the demo and the benchmark use.

const path = fileURLToPath(new URL('../../../config/local-sources.json', import.meta.url));
const raw = JSON.parse(readFileSync(path, 'utf8')) as { $comment: string; principals: { name: string; apiKeys: { sha256: string; localDevelopmentKey?: string }[] }[] };
const sources = loadSourcesFile(path, [...loadCatalog().types.keys()]);
const byName = new Map(sources.principals.map((principal) => [principal.name, principal]));

describe('config/local-sources.json', () => {
  it('says it is for local use only', () => {
    expect(raw.$comment).toMatch(/^FOR LOCAL USE ONLY\./);
  });

  it('development keys match their hashes', () => {
    const keys = raw.principals.flatMap((principal) => principal.apiKeys);
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const key of keys) expect(hashApiKey(key.localDevelopmentKey ?? '')).toBe(key.sha256);
  });

  it('demo sources may send only their own events', () => {
    expect(byName.get('hr-system')).toMatchObject({ sources: ['hr-system'], types: ['hr.employee.hired'] });
    expect(byName.get('vendor-office')).toMatchObject({ sources: ['vendor-office'], types: ['hr.contractor.engaged'] });
  });

  it('benchmark limit is far above local load', () => {
    expect(byName.get('benchmark')?.rateLimit.eventsPerSecond).toBeGreaterThanOrEqual(100_000);
    expect(byName.get('benchmark')?.sources).toEqual(['hr-system', 'vendor-office']);
  });

  it('demo limits leave room for the demo and tests', () => {
    for (const name of ['hr-system', 'vendor-office']) expect(byName.get(name)?.rateLimit.burst).toBeGreaterThanOrEqual(100);
  });
});
