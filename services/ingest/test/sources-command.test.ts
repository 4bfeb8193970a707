import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, loadCatalog } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { SourceAccess } from '../src/auth/source-access.ts';
import { loadSourcesFile } from '../src/auth/sources-file.ts';
import { engagedEvent } from './support/fixtures.ts';
import { createTestApp } from './support/harness.ts';

// `npm run sources` as an operator runs it, on a copy of the local sources file, and the ingest
// built from the file it leaves behind.

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const knownTypes = [...loadCatalog().types.keys()];

function copyOfLocalSources(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sources-command-')), 'sources.json');
  copyFileSync(join(repositoryRoot, 'config/local-sources.json'), path);
  return path;
}

function sources(...args: string[]) {
  const result = spawnSync(process.execPath, ['scripts/sources.ts', ...args], { cwd: repositoryRoot, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Posts a contractor event with `key` to an ingest that has read `file` at start. */
async function postWith(file: string, key: string): Promise<number> {
  const sourceAccess = new SourceAccess({ sources: loadSourcesFile(file, knownTypes), audiences: [], logger: createLogger({ service: 'ingest', level: 'silent' }), retryAfterSeconds: 5 });
  const { app } = createTestApp({ sourceAccess });
  const response = await app.request('/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json', 'x-api-key': key },
    body: JSON.stringify(engagedEvent()),
  });
  return response.status;
}

describe('sources command', () => {
  it('issued key is printed once and works', async () => {
    const file = copyOfLocalSources();
    const issued = sources('issue', 'vendor-office', '--file', file);
    expect(issued.status).toBe(0);
    const key = issued.stdout.trim();
    expect(key).toMatch(/^hrk\.vendor-office\.k[0-9a-f]{8}\.[A-Za-z0-9_-]{43}$/);
    expect(issued.stderr).toContain('shown only this once');

    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(key);
    const keyId = key.split('.')[2] as string;
    const entry = JSON.parse(text).principals.find((principal: { name: string }) => principal.name === 'vendor-office').apiKeys.find((candidate: { id: string }) => candidate.id === keyId);
    expect(entry).toEqual({ id: keyId, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) });
    expect(await postWith(file, key)).toBe(202);
  });

  it('revoked key is rejected', async () => {
    const file = copyOfLocalSources();
    const key = sources('issue', 'vendor-office', '--file', file).stdout.trim();
    const keyId = key.split('.')[2] as string;

    const revoked = sources('revoke', 'vendor-office', keyId, '--file', file);
    expect(revoked.status).toBe(0);
    expect(revoked.stdout).toContain(`Revoked key ${keyId} of "vendor-office"`);
    expect(await postWith(file, key)).toBe(401);
    // The development key that was not revoked still works.
    const developmentKey = JSON.parse(readFileSync(file, 'utf8')).principals.find((principal: { name: string }) => principal.name === 'vendor-office').apiKeys[0].localDevelopmentKey;
    expect(await postWith(file, developmentKey)).toBe(202);
  });

  it('unknown source and key are errors', () => {
    const file = copyOfLocalSources();
    const before = readFileSync(file, 'utf8');
    const noSource = sources('issue', 'payroll', '--file', file);
    expect(noSource.status).toBe(1);
    expect(noSource.stderr).toContain(`${file} has no source named "payroll"; its sources are: hr-system, vendor-office, benchmark.`);
    const noKey = sources('revoke', 'hr-system', 'k9', '--file', file);
    expect(noKey.status).toBe(1);
    expect(noKey.stderr).toContain(`"hr-system" has no key "k9" in ${file}; its key ids are k1.`);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('wrong arguments print the usage', () => {
    const result = sources('issue');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Usage:');
  });

  it('list shows policies without keys', () => {
    const result = sources('list', '--file', copyOfLocalSources());
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('vendor-office\n  sources:          vendor-office\n  types:            hr.contractor.engaged');
    expect(result.stdout).not.toContain('hrk.');
  });
});
