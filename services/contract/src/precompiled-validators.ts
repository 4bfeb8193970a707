import type { ValidateFunction } from 'ajv';

// Validators compiled at build time. Compiling the schemas with ajv takes about 50 ms of every
// start (Node 24, 2-core machine), so the build (scripts/lib/build.ts) replaces this module with
// ajv's standalone code for the catalog it bundles. Run from source, the map is empty and
// DataValidator compiles every type at start.

export interface PrecompiledValidator {
  /** The data schema the code was compiled from, as JSON.stringify wrote it, to detect a changed schema. */
  schema: string;
  validate: ValidateFunction;
}

export const precompiledValidators: ReadonlyMap<string, PrecompiledValidator> = new Map();
