import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The one schema source. `schemas/person.json` holds the fields every event carries; each file in
// `schemas/types/` is named after a CloudEvents `type` and holds that type's own fields. Adding an
// event type means adding a file there: the edge validation, the consumers and the Pub/Sub topic
// schema are all derived from this catalog.

export type JsonSchema = Record<string, unknown>;

export interface EventTypeSchema {
  /** The CloudEvents `type`, for example `hr.employee.hired`. */
  type: string;
  description: string;
  /** JSON Schema of the event's `data`: the person fields plus this type's own fields. */
  dataSchema: JsonSchema;
  /** This type's own fields, which travel in the topic record's `details` map. */
  detailFields: string[];
}

export interface Catalog {
  personFields: string[];
  types: Map<string, EventTypeSchema>;
}

interface SchemaFile {
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

const eventTypePattern = /^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+$/;

/**
 * Returns the folder that holds `person.json` and `types/`. Source files and bundles both sit one
 * level below it (`services/contract/src/`, `dist/<service>/`), and `HR_EVENTS_SCHEMA_DIR` overrides
 * it for layouts that differ.
 */
export function schemaDirectory(): string {
  return process.env.HR_EVENTS_SCHEMA_DIR ?? fileURLToPath(new URL('../schemas/', import.meta.url));
}

export function loadCatalog(directory = schemaDirectory()): Catalog {
  const person = readSchemaFile(join(directory, 'person.json'));
  const personFields = Object.keys(person.properties ?? {});
  assertRequiredStrings(person, 'person.json');

  const types = new Map<string, EventTypeSchema>();
  const typeDirectory = join(directory, 'types');
  for (const file of readdirSync(typeDirectory).filter((name) => name.endsWith('.json')).sort()) {
    const type = basename(file, '.json');
    types.set(type, buildEventType(type, readSchemaFile(join(typeDirectory, file)), person, personFields));
  }
  if (types.size === 0) {
    throw new Error(`No event type schemas found in ${typeDirectory}: add one JSON Schema per CloudEvents type, named <type>.json.`);
  }
  return { personFields, types };
}

function buildEventType(type: string, file: SchemaFile, person: SchemaFile, personFields: string[]): EventTypeSchema {
  if (!eventTypePattern.test(type)) {
    throw new Error(`Schema file ${type}.json: "${type}" is not a valid event type name; use dotted lower-case words such as hr.employee.hired.`);
  }
  const ownProperties = file.properties ?? {};
  const detailFields = Object.keys(ownProperties);
  for (const field of detailFields) {
    if (personFields.includes(field)) {
      throw new Error(`Schema file ${type}.json redefines the person field "${field}"; remove it, person fields are shared by every type.`);
    }
    // Type-specific fields travel in the Avro record's map<string>, so only strings fit there.
    if (ownProperties[field]?.type !== 'string') {
      throw new Error(`Schema file ${type}.json: field "${field}" must have "type": "string", because type-specific fields travel in the topic record's string map.`);
    }
  }

  const dataSchema: JsonSchema = {
    type: 'object',
    properties: { ...person.properties, ...ownProperties },
    required: [...(person.required ?? []), ...(file.required ?? [])],
    additionalProperties: false,
  };
  return { type, description: file.description ?? '', dataSchema, detailFields };
}

function assertRequiredStrings(schema: SchemaFile, fileName: string): void {
  for (const [field, property] of Object.entries(schema.properties ?? {})) {
    if (property.type !== 'string' || !schema.required?.includes(field)) {
      throw new Error(`${fileName}: person field "${field}" must be a required string, because it is a named field of the topic's Avro record.`);
    }
  }
}

function readSchemaFile(path: string): SchemaFile {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SchemaFile;
  } catch (error) {
    throw new Error(`Cannot read schema file ${path}: ${(error as Error).message}`, { cause: error });
  }
}
