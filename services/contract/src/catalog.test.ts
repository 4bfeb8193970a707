import { mkdirSync, mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog, schemaDirectory } from './catalog.ts';
import { avroSchemaFor } from './avro.ts';

function catalogWith(typeFiles: Record<string, unknown>): string {
  const directory = mkdtempSync(join(tmpdir(), 'hr-events-catalog-'));
  mkdirSync(join(directory, 'types'));
  copyFileSync(join(schemaDirectory(), 'person.json'), join(directory, 'person.json'));
  for (const [name, content] of Object.entries(typeFiles)) writeFileSync(join(directory, 'types', name), JSON.stringify(content));
  return directory;
}

describe('loadCatalog', () => {
  it('lists the shipped event types', () => {
    expect([...loadCatalog().types.keys()]).toEqual(['hr.contractor.engaged', 'hr.employee.hired']);
  });

  it('adds a type from a new schema file', () => {
    const directory = catalogWith({ 'hr.employee.transferred.json': { properties: { newDepartment: { type: 'string' } }, required: ['newDepartment'] } });
    const catalog = loadCatalog(directory);
    expect(catalog.types.get('hr.employee.transferred')?.detailFields).toEqual(['newDepartment']);
  });

  it('rejects a type-specific field that is not a string', () => {
    const directory = catalogWith({ 'hr.employee.paid.json': { properties: { amount: { type: 'number' } } } });
    expect(() => loadCatalog(directory)).toThrow(/field "amount" must have "type": "string"/);
  });

  it('rejects a type that redefines a person field', () => {
    const directory = catalogWith({ 'hr.employee.renamed.json': { properties: { givenName: { type: 'string' } } } });
    expect(() => loadCatalog(directory)).toThrow(/redefines the person field "givenName"/);
  });

  it('rejects a file name that is not an event type', () => {
    const directory = catalogWith({ 'Hired.json': { properties: {} } });
    expect(() => loadCatalog(directory)).toThrow(/"Hired" is not a valid event type name/);
  });
});

describe('avroSchemaFor', () => {
  it('names every person field and keeps details in a string map', () => {
    const schema = JSON.parse(avroSchemaFor(loadCatalog())) as { fields: { name: string; type: unknown }[] };
    expect(schema.fields.map((field) => field.name)).toEqual([
      'personId',
      'givenName',
      'familyName',
      'workEmail',
      'startDate',
      'department',
      'managerId',
      'details',
    ]);
    expect(schema.fields.at(-1)?.type).toEqual({ type: 'map', values: 'string' });
  });
});
