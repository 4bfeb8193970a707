import type { DataValidator } from './validation.ts';
import type { FieldProblem } from './problems.ts';
import {
  maxAttributeValueBytes,
  maxExtensionNameLength,
  maxExtensions,
  maxIdLength,
  maxSourceLength,
  maxSubjectLength,
  maxTypeLength,
} from './limits.ts';

/** A validated CloudEvents 1.0 event whose data matches its type's schema. */
export interface HrCloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  /** RFC 3339; the ingest fills in the time of receipt when the source sent none. */
  time: string;
  subject?: string;
  dataschema?: string;
  datacontenttype?: string;
  /** Extension attributes, as strings, the way the Pub/Sub binding carries them. */
  extensions: Record<string, string>;
  data: Record<string, string>;
}

export type ParseResult = { event: HrCloudEvent; problems?: undefined } | { event?: undefined; problems: FieldProblem[] };

const contextAttributes = new Set(['specversion', 'id', 'source', 'type', 'time', 'subject', 'dataschema', 'datacontenttype']);
const extensionNamePattern = /^[a-z0-9]+$/;
const rfc3339Pattern = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;
const controlCharacterPattern = /[\u0000-\u001f\u007f]/;
const undecodable = Symbol('undecodable data_base64');
const jsonMediaTypePattern = /^application\/([a-z0-9.+-]*\+)?json\s*(;.*)?$/i;

/**
 * Parses one event in the CloudEvents JSON format (structured mode, or one member of a batch).
 * Every problem is reported, each with a JSON Pointer below `pointer`.
 */
export function parseStructuredEvent(value: unknown, validator: DataValidator, pointer = '', receivedAt = new Date()): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problems: [{ pointer: pointer || '/', detail: 'must be a JSON object holding one CloudEvent' }] };
  }
  const members = value as Record<string, unknown>;
  const problems: FieldProblem[] = [];

  if ('data' in members && 'data_base64' in members) {
    problems.push({ pointer: `${pointer}/data_base64`, detail: 'an event carries either "data" or "data_base64", not both; send the JSON in "data"' });
  }
  const data = 'data_base64' in members ? decodeBase64Data(members.data_base64, `${pointer}/data_base64`, problems) : members.data;

  const attributes: Record<string, unknown> = {};
  for (const [name, attributeValue] of Object.entries(members)) {
    if (name !== 'data' && name !== 'data_base64') attributes[name] = attributeValue;
  }
  return finishEvent(attributes, data, validator, pointer, '', problems, receivedAt);
}

/**
 * Parses an event in binary mode: context attributes in `ce-*` headers (percent-encoded, as the
 * HTTP binding requires), the content type in `Content-Type` and the data in the body.
 */
export function parseBinaryEvent(
  headers: Iterable<[string, string]>,
  contentType: string | undefined,
  body: unknown,
  validator: DataValidator,
  receivedAt = new Date(),
): ParseResult {
  const problems: FieldProblem[] = [];
  const attributes: Record<string, unknown> = {};
  for (const [rawName, rawValue] of headers) {
    const name = rawName.toLowerCase();
    if (!name.startsWith('ce-')) continue;
    const attribute = name.slice(3);
    try {
      attributes[attribute] = decodeURIComponent(rawValue);
    } catch {
      problems.push({ pointer: `/headers/${name}`, detail: 'is not valid percent-encoded UTF-8' });
    }
  }
  if (contentType !== undefined) attributes.datacontenttype = contentType;
  return finishEvent(attributes, body, validator, '', '/headers/ce-', problems, receivedAt);
}

function finishEvent(
  attributes: Record<string, unknown>,
  data: unknown,
  validator: DataValidator,
  pointer: string,
  attributePrefix: string,
  problems: FieldProblem[],
  receivedAt: Date,
): ParseResult {
  const at = (name: string) => (attributePrefix === '' ? `${pointer}/${name}` : `${attributePrefix}${name}`);

  const specversion = attributes.specversion;
  if (specversion === undefined || specversion === null) {
    problems.push({ pointer: at('specversion'), detail: 'missing required attribute "specversion"; set it to "1.0"' });
  } else if (specversion !== '1.0') {
    problems.push({ pointer: at('specversion'), detail: `unsupported specversion ${JSON.stringify(specversion)}; only CloudEvents "1.0" is accepted` });
  }

  const id = requireString(attributes, 'id', maxIdLength, at, problems);
  const source = requireString(attributes, 'source', maxSourceLength, at, problems);
  const type = requireString(attributes, 'type', maxTypeLength, at, problems);
  if (source !== undefined && /\s/.test(source)) {
    problems.push({ pointer: at('source'), detail: 'must be a URI-reference without spaces, such as "hr-system" or "https://hr.example.com"' });
  }
  if (type !== undefined && !validator.hasType(type)) {
    problems.push({ pointer: at('type'), detail: `unknown event type "${type}"; known types are ${validator.knownTypes().join(', ')}` });
  }

  const time = optionalString(attributes, 'time', 64, at, problems);
  if (time !== undefined && !isRfc3339(time)) {
    problems.push({ pointer: at('time'), detail: `"${time}" is not an RFC 3339 timestamp; use a form such as 2027-01-04T09:00:00Z` });
  }
  const subject = optionalString(attributes, 'subject', maxSubjectLength, at, problems);
  const dataschema = optionalString(attributes, 'dataschema', maxAttributeValueBytes, at, problems);
  if (dataschema !== undefined && !URL.canParse(dataschema)) {
    problems.push({ pointer: at('dataschema'), detail: 'must be an absolute URI' });
  }
  const datacontenttype = optionalString(attributes, 'datacontenttype', 256, at, problems);
  if (datacontenttype !== undefined && !jsonMediaTypePattern.test(datacontenttype)) {
    problems.push({ pointer: at('datacontenttype'), detail: `"${datacontenttype}" is not JSON; HR event data must be sent as application/json` });
  }

  const extensions = readExtensions(attributes, at, problems);

  if (data === undecodable) {
    // decodeBase64Data has already reported why.
  } else if (data === undefined) {
    problems.push({ pointer: `${pointer}/data`, detail: 'missing event data; put the HR fields in "data"' });
  } else if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    problems.push({ pointer: `${pointer}/data`, detail: 'must be a JSON object with the HR fields of the event type' });
  } else if (type !== undefined && validator.hasType(type)) {
    problems.push(...validator.validate(type, data, `${pointer}/data`));
  }

  if (problems.length > 0 || id === undefined || source === undefined || type === undefined) {
    return { problems };
  }
  const event: HrCloudEvent = {
    specversion: '1.0',
    id,
    source,
    type,
    time: time ?? receivedAt.toISOString(),
    extensions,
    data: data as Record<string, string>,
  };
  if (subject !== undefined) event.subject = subject;
  if (dataschema !== undefined) event.dataschema = dataschema;
  if (datacontenttype !== undefined) event.datacontenttype = datacontenttype;
  return { event };
}

function requireString(
  attributes: Record<string, unknown>,
  name: string,
  maxLength: number,
  at: (name: string) => string,
  problems: FieldProblem[],
): string | undefined {
  const value = attributes[name];
  if (value === undefined || value === null) {
    problems.push({ pointer: at(name), detail: `missing required attribute "${name}"` });
    return undefined;
  }
  return checkString(value, name, maxLength, at, problems);
}

function optionalString(
  attributes: Record<string, unknown>,
  name: string,
  maxLength: number,
  at: (name: string) => string,
  problems: FieldProblem[],
): string | undefined {
  const value = attributes[name];
  if (value === undefined || value === null) return undefined;
  return checkString(value, name, maxLength, at, problems);
}

function checkString(value: unknown, name: string, maxLength: number, at: (name: string) => string, problems: FieldProblem[]): string | undefined {
  if (typeof value !== 'string') {
    problems.push({ pointer: at(name), detail: `attribute "${name}" must be a string` });
    return undefined;
  }
  if (value.length === 0) {
    problems.push({ pointer: at(name), detail: `attribute "${name}" must not be empty` });
    return undefined;
  }
  if (value.length > maxLength || Buffer.byteLength(value) > maxAttributeValueBytes) {
    problems.push({ pointer: at(name), detail: `attribute "${name}" must be at most ${maxLength} characters long` });
    return undefined;
  }
  if (controlCharacterPattern.test(value)) {
    problems.push({ pointer: at(name), detail: `attribute "${name}" must not contain control characters` });
    return undefined;
  }
  // UTF-8 cannot encode an unpaired surrogate, so the attribute would reach Pub/Sub altered.
  if (!value.isWellFormed()) {
    problems.push({ pointer: at(name), detail: `attribute "${name}" must be valid Unicode text; it contains an unpaired surrogate` });
    return undefined;
  }
  return value;
}

function readExtensions(attributes: Record<string, unknown>, at: (name: string) => string, problems: FieldProblem[]): Record<string, string> {
  const extensions: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(attributes)) {
    if (contextAttributes.has(name) || value === null || value === undefined) continue;
    if (!extensionNamePattern.test(name) || name.length > maxExtensionNameLength) {
      problems.push({
        pointer: at(name),
        detail: `"${name}" is not a valid extension attribute name; use at most ${maxExtensionNameLength} lower-case letters and digits`,
      });
      continue;
    }
    const text = extensionValue(value);
    if (text === undefined) {
      problems.push({ pointer: at(name), detail: `extension "${name}" must be a string, a boolean or an integer` });
      continue;
    }
    if (!text.isWellFormed()) {
      problems.push({ pointer: at(name), detail: `extension "${name}" must be valid Unicode text; it contains an unpaired surrogate` });
      continue;
    }
    if (Buffer.byteLength(text) > maxAttributeValueBytes) {
      problems.push({ pointer: at(name), detail: `extension "${name}" must be at most ${maxAttributeValueBytes} bytes` });
      continue;
    }
    extensions[name] = text;
    count += 1;
  }
  if (count > maxExtensions) {
    problems.push({ pointer: at(''), detail: `an event may carry at most ${maxExtensions} extension attributes, found ${count}` });
  }
  return extensions;
}

function extensionValue(value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

function decodeBase64Data(value: unknown, pointer: string, problems: FieldProblem[]): unknown {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    problems.push({ pointer, detail: 'must be base64 text' });
    return undecodable;
  }
  try {
    return JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    problems.push({ pointer, detail: 'must decode to a JSON object; HR event data is JSON' });
    return undecodable;
  }
}

/**
 * Checks the RFC 3339 form and each field's range. Date.parse alone is not enough: it rolls some
 * impossible values over, such as February 30 or 24:00. A leap second (:60) is rejected, as
 * Date.parse rejects it.
 */
export function isRfc3339(value: string): boolean {
  const match = rfc3339Pattern.exec(value);
  if (match === null) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const isOffsetValid = match[9] === undefined || (Number(match[9]) <= 23 && Number(match[10]) <= 59);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && second <= 59 && isOffsetValid;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const isLeapYear = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return isLeapYear ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
