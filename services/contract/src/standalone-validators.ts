import standaloneModule from 'ajv/dist/standalone/index.js';
import type { Catalog } from './catalog.ts';
import { createAjv } from './validation.ts';

// ajv's standalone entry is CommonJS; under NodeNext its default import is the module object.
const standaloneCode = ((standaloneModule as unknown as { default?: unknown }).default ?? standaloneModule) as (ajv: ReturnType<typeof createAjv>, refs: Record<string, string>) => string;

/**
 * Returns the source of an ES module that replaces precompiled-validators.ts: the catalog's
 * data schemas compiled to JavaScript by ajv, each with the schema it came from. The module calls
 * require() for ajv's runtime helpers and the date format, so it is meant for a bundler that
 * resolves them (esbuild, in scripts/lib/build.ts).
 */
export function standaloneValidatorsModule(catalog: Catalog): string {
  const ajv = createAjv({ standaloneCode: true });
  const exportNames: Record<string, string> = {};
  const entries: string[] = [];
  [...catalog.types.values()].forEach((entry, index) => {
    // Export names must be identifiers, and event types contain dots.
    const exportName = `validateType${index}`;
    ajv.addSchema(entry.dataSchema, exportName);
    exportNames[exportName] = exportName;
    entries.push(`[${JSON.stringify(entry.type)}, { schema: ${JSON.stringify(JSON.stringify(entry.dataSchema))}, validate: ${exportName} }]`);
  });
  return `${standaloneCode(ajv, exportNames)}\nexport const precompiledValidators = new Map([\n  ${entries.join(',\n  ')},\n]);\n`;
}
