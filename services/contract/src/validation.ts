import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Catalog } from './catalog.ts';
import { precompiledValidators, type PrecompiledValidator } from './precompiled-validators.ts';
import type { FieldProblem } from './problems.ts';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Creates the ajv instance that compiles the schemas, both at start and in the build. */
export function createAjv(options: { standaloneCode?: boolean } = {}): Ajv {
  // $data lets one field refer to another, as endDate refers to startDate.
  const ajv = new Ajv({
    allErrors: true,
    $data: true,
    strict: true,
    strictTypes: false,
    ...(options.standaloneCode === true ? { code: { source: true, esm: true } } : {}),
  });
  addFormats(ajv);
  return ajv;
}

/**
 * Validates event data against its type's schema. A type whose schema the build compiled (see
 * precompiled-validators.ts) uses that code. Any other type, for example one added through
 * HR_EVENTS_SCHEMA_DIR after the build, is compiled here, once, at start.
 */
export class DataValidator {
  private readonly validators = new Map<string, ValidateFunction>();
  /** The types compiled at start because the build had no code for their schema. */
  readonly compiledAtStart: string[] = [];

  constructor(catalog: Catalog, precompiled: ReadonlyMap<string, PrecompiledValidator> = precompiledValidators) {
    let ajv: Ajv | undefined;
    for (const [type, entry] of catalog.types) {
      const built = precompiled.get(type);
      if (built !== undefined && built.schema === JSON.stringify(entry.dataSchema)) {
        this.validators.set(type, built.validate);
      } else {
        ajv ??= createAjv();
        this.validators.set(type, ajv.compile(entry.dataSchema));
        this.compiledAtStart.push(type);
      }
    }
  }

  hasType(type: string): boolean {
    return this.validators.has(type);
  }

  knownTypes(): string[] {
    return [...this.validators.keys()];
  }

  /** Returns every problem with `data`, each pointing below `pointerPrefix`; empty when valid. */
  validate(type: string, data: unknown, pointerPrefix: string): FieldProblem[] {
    const validate = this.validators.get(type);
    if (validate === undefined) {
      return [{ pointer: pointerPrefix, detail: `unknown event type "${type}"` }];
    }
    const problems = validate(data) ? [] : (validate.errors ?? []).map((error) => describeError(error, pointerPrefix));
    addMalformedTextProblems(data, pointerPrefix, problems);
    return problems;
  }
}

/**
 * Finds string fields with an unpaired surrogate. JSON can carry one as an escape (\ud800), but
 * UTF-8 cannot encode it, so the text would not arrive as sent.
 */
function addMalformedTextProblems(data: unknown, pointerPrefix: string, problems: FieldProblem[]): void {
  if (typeof data !== 'object' || data === null) return;
  for (const field in data) {
    const value: unknown = (data as Record<string, unknown>)[field];
    if (typeof value === 'string' && !value.isWellFormed()) {
      const pointer = `${pointerPrefix}/${field.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      problems.push({ pointer, detail: 'must be valid Unicode text; it contains an unpaired surrogate' });
    }
  }
}

function describeError(error: ErrorObject, pointerPrefix: string): FieldProblem {
  const pointer = pointerPrefix + error.instancePath;
  const params = error.params as Record<string, unknown>;

  switch (error.keyword) {
    case 'required':
      return { pointer: `${pointer}/${String(params.missingProperty)}`, detail: `missing required field "${String(params.missingProperty)}"` };
    case 'additionalProperties':
      return {
        pointer: `${pointer}/${String(params.additionalProperty)}`,
        detail: `unknown field "${String(params.additionalProperty)}"; remove it or add it to the event type's schema`,
      };
    case 'type':
      return { pointer, detail: `must be a ${String(params.type)}` };
    case 'enum':
      return { pointer, detail: `must be one of ${(params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ')}` };
    case 'format':
      return { pointer, detail: formatHint(String(params.format)) };
    case 'formatMinimum':
      return { pointer, detail: `must not be before ${String(params.limit)}` };
    case 'minLength':
      return { pointer, detail: Number(params.limit) === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters long` };
    case 'maxLength':
      return { pointer, detail: `must be at most ${String(params.limit)} characters long` };
    case 'pattern':
      return { pointer, detail: 'may contain only letters, digits, ".", "_" and "-", starting with a letter or digit' };
    default:
      return { pointer, detail: error.message ?? 'is invalid' };
  }
}

function formatHint(format: string): string {
  switch (format) {
    case 'date':
      return 'must be a calendar date in ISO 8601 form, such as 2027-01-04';
    case 'email':
      return 'must be an email address, such as ada@example.com';
    default:
      return `must match format "${format}"`;
  }
}
