import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import standaloneModule from 'ajv/dist/standalone/index.js';
import { writeFileSync } from 'node:fs';
import { loadCatalog } from '../services/contract/src/catalog.ts';
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const standaloneCode = (standaloneModule as any).default ?? standaloneModule;
const catalog = loadCatalog();
const ajv = new Ajv({ allErrors: true, $data: true, strict: true, strictTypes: false, code: { source: true } });
addFormats(ajv);
const refs: Record<string, string> = {};
let i = 0;
for (const [type, entry] of catalog.types) { const id = `t${i++}`; ajv.addSchema(entry.dataSchema, id); refs[id] = id; }
const t = performance.now();
const code = standaloneCode(ajv, refs);
console.log('gen ms', performance.now() - t, code.length);
writeFileSync('/tmp/sa/validators.cjs', code);
