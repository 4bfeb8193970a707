import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataValidator, loadCatalog, schemaDirectory, type PrecompiledValidator } from '@hr-events/contract';
import { esmRequireBanner, precompiledValidators } from '../../../scripts/lib/build.ts';
import { engagementData, hireData } from '../../../test/fixtures/events.ts';

// The build swaps precompiled-validators.ts for ajv's standalone code (scripts/lib/build.ts). This
// file bundles that module the way the services' build does. It checks that the bundled validators
// return the same problems as validators compiled at start. It also checks that a schema changed
// after the build is compiled at start instead of being checked by stale code.

const catalog = loadCatalog();
let built: ReadonlyMap<string, PrecompiledValidator>;

beforeAll(async () => {
  const directory = mkdtempSync(join(tmpdir(), 'hr-events-validators-'));
  const entry = join(directory, 'entry.ts');
  writeFileSync(entry, `export { precompiledValidators } from ${JSON.stringify(join(process.cwd(), 'services/contract/src/precompiled-validators.ts'))};\n`);
  const outfile = join(directory, 'validators.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
    plugins: [precompiledValidators()],
    banner: { js: esmRequireBanner },
  });
  built = ((await import(pathToFileURL(outfile).href)) as { precompiledValidators: ReadonlyMap<string, PrecompiledValidator> }).precompiledValidators;
});

const samples: [string, string, unknown][] = [
  ['a valid hire', 'hr.employee.hired', hireData()],
  ['a valid engagement', 'hr.contractor.engaged', engagementData()],
  ['a hire without a manager', 'hr.employee.hired', { ...hireData(), managerId: undefined }],
  ['an engagement that ends before it starts', 'hr.contractor.engaged', engagementData({ startDate: '2027-03-01', endDate: '2027-02-28' })],
  ['a bad email and a bad date', 'hr.employee.hired', hireData({ workEmail: 'ada', startDate: '2027-02-30' })],
  ['an unknown field', 'hr.employee.hired', { ...hireData(), salary: 1 }],
  ['wrong types', 'hr.contractor.engaged', { ...engagementData(), vendor: 7, personId: ['P-1'] }],
  ['an employment type out of the list', 'hr.employee.hired', hireData({ employmentType: 'seasonal' })],
  ['a name too long', 'hr.employee.hired', hireData({ givenName: 'A'.repeat(201) })],
  ['an array instead of an object', 'hr.employee.hired', [hireData()]],
];

describe('validators compiled by the build', () => {
  it('cover every type of the catalog', () => {
    expect([...built.keys()].sort()).toEqual([...catalog.types.keys()].sort());
    expect(new DataValidator(catalog, built).compiledAtStart).toEqual([]);
  });

  it.each(samples)('match start-compiled validators on %s', (name, type, data) => {
    const atStart = new DataValidator(catalog, new Map());
    expect(atStart.compiledAtStart).toHaveLength(catalog.types.size);
    const problems = new DataValidator(catalog, built).validate(type, data, '/data');
    expect(problems).toEqual(atStart.validate(type, data, '/data'));
    expect(problems.length === 0).toBe(name.startsWith('a valid'));
  });

  it('are not used for a schema that changed after the build', () => {
    const directory = mkdtempSync(join(tmpdir(), 'hr-events-schemas-'));
    cpSync(schemaDirectory(), directory, { recursive: true });
    const path = join(directory, 'types', 'hr.contractor.engaged.json');
    const schema = JSON.parse(readFileSync(path, 'utf8')) as { properties: { vendor: { maxLength: number } } };
    schema.properties.vendor.maxLength = 5;
    writeFileSync(path, JSON.stringify(schema));

    const validator = new DataValidator(loadCatalog(directory), built);
    expect(validator.compiledAtStart).toEqual(['hr.contractor.engaged']);
    expect(validator.validate('hr.contractor.engaged', engagementData({ vendor: 'Acme Staffing' }), '/data')).toEqual([
      { pointer: '/data/vendor', detail: 'must be at most 5 characters long' },
    ]);
  });
});
