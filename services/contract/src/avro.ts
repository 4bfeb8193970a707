import type { Catalog } from './catalog.ts';

// The topic's Avro schema (JSON encoding). The record is the event's data reshaped so that it stays
// plain JSON: person fields are named string fields, and each type's own fields sit in the `details`
// map. Avro unions are avoided on purpose, because their JSON encoding wraps values ({"string": "x"})
// and every consumer would then need Avro to read a message.

export const avroRecordName = 'HrEventData';
export const avroNamespace = 'dev.hrevents';

export function avroSchemaFor(catalog: Catalog): string {
  const fields = [
    ...catalog.personFields.map((name) => ({ name, type: 'string' })),
    { name: 'details', type: { type: 'map', values: 'string' }, doc: 'Fields specific to the event type (ce-type attribute).' },
  ];
  return JSON.stringify({ type: 'record', name: avroRecordName, namespace: avroNamespace, fields }, null, 2);
}
