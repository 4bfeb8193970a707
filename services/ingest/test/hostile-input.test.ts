import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { createApiKey, maxBodyBytes, ProblemType, topology, type ProblemTypeUri } from '@hr-events/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeKey } from '../../../scripts/sources.ts';
import { provisionTopology } from '../../../scripts/lib/provision.ts';
import { emulatorEnvironment, uniqueProjectId } from '../../../test/support/project.ts';
import { engagedEvent, hiredData, hiredEvent } from './support/fixtures.ts';
import { startIngestProcess, type IngestProcess } from './support/ingest-process.ts';
import { formatRequest, sendRaw, type RawRequest, type RawResponse } from './support/raw-http.ts';

// Hostile requests against the ingest process, aimed at the Pub/Sub emulator with the topic, its
// Avro schema and a subscription of this test. Each row is one request (or raw bytes) with the
// status and problem type it must get. After the table, the subscription has received nothing,
// while a valid control event sent last does arrive: no hostile request reached the topic.

const projectId = uniqueProjectId('ingest-hostile');
const names = topology();
const watchSubscription = 'hostile-watch';

// Keys of the sources file this test writes. The sources command revokes "revoked" before the
// ingest starts. "limited" may send one request per quarter hour, and "small-burst" at most three
// events at once.
const keys = {
  hr: createApiKey('hr-system', 'k1'),
  revoked: createApiKey('hr-system', 'k0'),
  vendor: createApiKey('vendor-office', 'k1'),
  limited: createApiKey('limited', 'k1'),
  smallBurst: createApiKey('small-burst', 'k1'),
};

function writeSourcesFile(): string {
  const principal = (name: string, sources: string[], types: string[], rateLimit: { eventsPerSecond: number; burst: number }, apiKeys: { id: string; sha256: string }[]) => ({
    name,
    sources,
    types,
    rateLimit,
    apiKeys,
  });
  const generous = { eventsPerSecond: 1000, burst: 1000 };
  const file = {
    principals: [
      principal('hr-system', ['hr-system'], ['hr.employee.hired'], generous, [
        { id: 'k0', sha256: keys.revoked.sha256 },
        { id: 'k1', sha256: keys.hr.sha256 },
      ]),
      principal('vendor-office', ['vendor-office'], ['hr.contractor.engaged'], generous, [{ id: 'k1', sha256: keys.vendor.sha256 }]),
      principal('limited', ['hr-system'], ['hr.employee.hired'], { eventsPerSecond: 0.001, burst: 1 }, [{ id: 'k1', sha256: keys.limited.sha256 }]),
      principal('small-burst', ['hr-system'], ['hr.employee.hired'], { eventsPerSecond: 1000, burst: 3 }, [{ id: 'k1', sha256: keys.smallBurst.sha256 }]),
    ],
  };
  const path = join(mkdtempSync(join(tmpdir(), 'hostile-sources-')), 'sources.json');
  writeFileSync(path, JSON.stringify(file, null, 2));
  revokeKey(path, 'hr-system', 'k0');
  return path;
}

interface HostileCase {
  name: string;
  /** A request to frame, or raw bytes sent as they are. */
  request: RawRequest | Buffer;
  status: number;
  /** The problem `type`, or null where Node's HTTP parser rejects the bytes before the ingest receives a request. */
  type: ProblemTypeUri | null;
  /** Response headers that must be present, with their values. */
  headers?: Record<string, string | RegExp>;
  /** Sends the same request this many times and checks the last response; the earlier ones drain a rate limit. */
  times?: number;
  halfClose?: boolean;
}

const structuredType: [string, string] = ['content-type', 'application/cloudevents+json'];
const batchType: [string, string] = ['content-type', 'application/cloudevents-batch+json'];
const hrKey: [string, string] = ['x-api-key', keys.hr.key];
const vendorKey: [string, string] = ['x-api-key', keys.vendor.key];

/** Builds a structured-mode request, sent as the HR system unless other headers are given. */
function structured(body: unknown, headers: [string, string][] = [hrKey]): RawRequest {
  return { headers: [structuredType, ...headers], body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) };
}

function batch(events: unknown, headers: [string, string][] = [hrKey]): RawRequest {
  return { headers: [batchType, ...headers], body: JSON.stringify(events) };
}

/** Binary mode: context in ce-* headers, the data as the body. */
function binary(context: Record<string, string>, data: unknown, headers: [string, string][] = [hrKey]): RawRequest {
  const ceHeaders = Object.entries(context).map(([name, value]): [string, string] => [`ce-${name}`, value]);
  return { headers: [['content-type', 'application/json'], ...headers, ...ceHeaders], body: JSON.stringify(data) };
}

const hireContext = { specversion: '1.0', id: 'bin-1', source: 'hr-system', type: 'hr.employee.hired' };
const withData = (fields: Record<string, unknown>) => hiredEvent({ data: hiredData(fields) });
const withoutMember = (member: string) => {
  const event = hiredEvent();
  delete event[member];
  return event;
};
const unauthenticated = { 'www-authenticate': /^Bearer realm="hr-events-ingest"/ };

/** Formats a raw request with the given header lines and a valid event, for the framing rows. */
function framingBytes(headerLines: string[], body = JSON.stringify(hiredEvent())): Buffer {
  return Buffer.from(`POST /v1/events HTTP/1.1\r\n${headerLines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
}
const eventBody = JSON.stringify(hiredEvent());

/** Returns the UTF-8 bytes of `text` with its first `search` replaced by raw bytes. */
function withBytes(text: string, search: string, bytes: number[]): Buffer {
  const at = text.indexOf(search);
  return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bytes), Buffer.from(text.slice(at + search.length))]);
}
const usualHeaders = ['Host: ingest.test', `x-api-key: ${keys.hr.key}`, 'Content-Type: application/cloudevents+json'];

const cases: HostileCase[] = [
  // Authentication and policy.
  { name: 'no credentials', request: structured(hiredEvent(), []), status: 401, type: ProblemType.unauthenticated, headers: unauthenticated },
  { name: 'unknown key', request: structured(hiredEvent(), [['x-api-key', createApiKey('hr-system', 'k9').key]]), status: 401, type: ProblemType.unauthenticated },
  { name: 'revoked key', request: structured(hiredEvent(), [['x-api-key', keys.revoked.key]]), status: 401, type: ProblemType.unauthenticated },
  { name: 'key with another secret', request: structured(hiredEvent(), [['x-api-key', `${keys.hr.key.slice(0, -43)}${'A'.repeat(43)}`]]), status: 401, type: ProblemType.unauthenticated },
  { name: 'key that is not a key', request: structured(hiredEvent(), [['x-api-key', 'hr-system']]), status: 401, type: ProblemType.unauthenticated },
  { name: 'key and bearer token together', request: structured(hiredEvent(), [hrKey, ['authorization', 'Bearer a.b.c']]), status: 401, type: ProblemType.unauthenticated },
  { name: 'bearer token when no source uses tokens', request: structured(hiredEvent(), [['authorization', 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln']]), status: 401, type: ProblemType.unauthenticated },
  { name: 'basic authorization', request: structured(hiredEvent(), [['authorization', 'Basic aHI6aHI=']]), status: 401, type: ProblemType.unauthenticated },
  { name: 'vendor claiming the hr system', request: structured(engagedEvent({ source: 'hr-system' }), [vendorKey]), status: 403, type: ProblemType.forbidden },
  { name: 'vendor sending a hire', request: structured(hiredEvent({ source: 'vendor-office' }), [vendorKey]), status: 403, type: ProblemType.forbidden },
  { name: 'vendor batch hiding a hire', request: batch([engagedEvent({ id: 'v-1' }), hiredEvent({ id: 'v-2', source: 'vendor-office' })], [vendorKey]), status: 403, type: ProblemType.forbidden },
  { name: 'vendor binary event as the hr system', request: binary({ ...hireContext, type: 'hr.contractor.engaged' }, engagedEvent().data, [vendorKey]), status: 403, type: ProblemType.forbidden },
  { name: 'status of another source', request: { method: 'GET', path: '/v1/events/evt-0001?source=hr-system', headers: [vendorKey], framing: 'none' }, status: 403, type: ProblemType.forbidden },
  { name: 'status without credentials', request: { method: 'GET', path: '/v1/events/evt-0001', framing: 'none' }, status: 401, type: ProblemType.unauthenticated },
  { name: 'source over its rate limit', request: structured('{', [['x-api-key', keys.limited.key]]), status: 429, type: ProblemType.rateLimited, headers: { 'retry-after': /^\d+$/ }, times: 2 },
  { name: 'batch above the source burst', request: batch(['s-1', 's-2', 's-3', 's-4'].map((id) => hiredEvent({ id })), [['x-api-key', keys.smallBurst.key]]), status: 413, type: ProblemType.batchTooLarge },

  // Malformed and truncated JSON.
  { name: 'empty body', request: structured(''), status: 400, type: ProblemType.invalidJson },
  { name: 'whitespace only', request: structured(' \r\n\t '), status: 400, type: ProblemType.invalidJson },
  { name: 'truncated object', request: structured(eventBody.slice(0, 60)), status: 400, type: ProblemType.invalidJson },
  { name: 'trailing comma', request: structured('{"specversion":"1.0",}'), status: 400, type: ProblemType.invalidJson },
  { name: 'two documents', request: structured(`${eventBody}${eventBody}`), status: 400, type: ProblemType.invalidJson },
  { name: 'NaN literal', request: structured(eventBody.replace('"2027-01-01T09:00:00Z"', 'NaN')), status: 400, type: ProblemType.invalidJson },
  { name: 'single quotes', request: structured(eventBody.replaceAll('"', "'")), status: 400, type: ProblemType.invalidJson },

  // Wrong JSON types.
  { name: 'body is a string', request: structured('"an event"'), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'body is null', request: structured('null'), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'body is a number', request: structured('42'), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'structured body is an array', request: structured([hiredEvent()]), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'deeply nested arrays', request: structured(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'id is a number', request: structured(hiredEvent({ id: 17 })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'data is a string', request: structured(hiredEvent({ data: 'Ada Lovelace' })), status: 400, type: ProblemType.invalidEventData },
  { name: 'extension is an object', request: structured(hiredEvent({ tenant: { name: 'acme' } })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'batch is an object', request: batch(hiredEvent()), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'batch member is null', request: batch([hiredEvent(), null]), status: 400, type: ProblemType.invalidCloudEvent },

  // CloudEvents envelope.
  { name: 'missing specversion', request: structured(withoutMember('specversion')), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'specversion 0.3', request: structured(hiredEvent({ specversion: '0.3' })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'specversion as a number', request: structured(hiredEvent({ specversion: 1.0 })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'empty id', request: structured(hiredEvent({ id: '' })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'missing source', request: structured(withoutMember('source')), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'source with a space', request: structured(hiredEvent({ source: 'hr system' })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'missing type', request: structured(withoutMember('type')), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'unknown type', request: structured(hiredEvent({ type: 'hr.employee.fired' })), status: 400, type: ProblemType.unknownEventType },
  { name: 'time that is a word', request: structured(hiredEvent({ time: 'yesterday' })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'time on February 30', request: structured(hiredEvent({ time: '2027-02-30T09:00:00Z' })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'time at hour 24', request: structured(hiredEvent({ time: '2027-01-01T24:00:00Z' })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'time without offset', request: structured(hiredEvent({ time: '2027-01-01T09:00:00' })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'extension name in upper case', request: structured(hiredEvent({ Tenant: 'acme' })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'extension name over 20 characters', request: structured(hiredEvent({ abcdefghijklmnopqrstu: 'x' })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'extension name with a hyphen', request: structured(hiredEvent({ 'x-tenant': 'acme' })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'data and data_base64 together', request: structured(hiredEvent({ data_base64: Buffer.from(JSON.stringify(hiredData())).toString('base64') })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'data_base64 that is not base64', request: structured({ ...withoutMember('data'), data_base64: 'not base64!' }), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'id with a control character', request: structured(hiredEvent({ id: 'evt\u0000-1' })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'data content type xml', request: structured(hiredEvent({ datacontenttype: 'text/xml' })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'relative dataschema', request: structured(hiredEvent({ dataschema: 'schemas/hired.json' })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'missing data', request: structured(withoutMember('data')), status: 400, type: ProblemType.invalidEventData },

  // Binary mode headers.
  { name: 'binary without ce-id', request: binary({ specversion: '1.0', source: 'hr-system', type: 'hr.employee.hired' }, hiredData()), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'binary specversion 0.3', request: binary({ ...hireContext, specversion: '0.3' }, hiredData()), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'binary broken percent-encoding', request: binary({ ...hireContext, id: 'evt%E0%A4%A' }, hiredData()), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'binary invalid time', request: binary({ ...hireContext, time: '2027-01-01' }, hiredData()), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'binary body is an array', request: binary(hireContext, [hiredData()]), status: 400, type: ProblemType.invalidEventData },
  {
    name: 'binary with a text body',
    request: { headers: [['content-type', 'text/plain'], hrKey, ['ce-specversion', '1.0'], ['ce-id', 'bin-2'], ['ce-source', 'hr-system'], ['ce-type', 'hr.employee.hired']], body: 'Ada Lovelace' },
    status: 415,
    type: ProblemType.unsupportedMediaType,
  },

  // HR fields.
  { name: 'work email without a domain', request: structured(withData({ workEmail: 'ada' })), status: 400, type: ProblemType.invalidEventData },
  { name: 'start date in US form', request: structured(withData({ startDate: '01/04/2027' })), status: 400, type: ProblemType.invalidEventData },
  { name: 'start date on February 30', request: structured(withData({ startDate: '2027-02-30' })), status: 400, type: ProblemType.invalidEventData },
  { name: 'person id with a space', request: structured(withData({ personId: 'P 1001' })), status: 400, type: ProblemType.invalidEventData },
  { name: 'person id as a number', request: structured(withData({ personId: 1001 })), status: 400, type: ProblemType.invalidEventData },
  { name: 'empty given name', request: structured(withData({ givenName: '' })), status: 400, type: ProblemType.invalidEventData },
  { name: 'given name of 201 characters', request: structured(withData({ givenName: 'A'.repeat(201) })), status: 400, type: ProblemType.invalidEventData },
  { name: 'given name with an unpaired surrogate', request: structured(JSON.stringify(withData({ givenName: 'Ada' })).replace('"Ada"', '"Ada\\ud800"')), status: 400, type: ProblemType.invalidEventData },
  { name: 'employment type outside the list', request: structured(withData({ employmentType: 'contractor' })), status: 400, type: ProblemType.invalidEventData },
  { name: 'unknown field', request: structured(withData({ salary: '100000' })), status: 400, type: ProblemType.invalidEventData },
  { name: 'missing family name', request: structured(withData({ familyName: undefined })), status: 400, type: ProblemType.invalidEventData },
  {
    name: 'engagement ending before it starts',
    request: structured(engagedEvent({ data: { ...engagedEvent().data as object, endDate: '2027-01-01' } }), [vendorKey]),
    status: 400,
    type: ProblemType.invalidEventData,
  },

  // Limits, including everything Pub/Sub itself would refuse.
  { name: 'declared body over 1 MiB', request: framingBytes([...usualHeaders, `Content-Length: ${maxBodyBytes + 1}`], '{'), status: 413, type: ProblemType.payloadTooLarge, headers: { connection: 'close' } },
  {
    name: 'chunked body over 1 MiB',
    request: { headers: [structuredType, hrKey], body: JSON.stringify(hiredEvent({ padding: 'x'.repeat(maxBodyBytes) })), framing: 'chunked' },
    status: 413,
    type: ProblemType.payloadTooLarge,
  },
  { name: 'batch of 101 events', request: batch(Array.from({ length: 101 }, (_, index) => hiredEvent({ id: `b-${index}` }))), status: 413, type: ProblemType.batchTooLarge },
  { name: 'empty batch', request: batch([]), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'id of 257 characters', request: structured(hiredEvent({ id: 'i'.repeat(257) })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'source of 513 characters', request: structured(hiredEvent({ source: 's'.repeat(513) })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'subject of 513 characters', request: structured(hiredEvent({ subject: 's'.repeat(513) })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'subject over 1024 UTF-8 bytes', request: structured(hiredEvent({ subject: '\u20ac'.repeat(400) })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'extension value over 1024 bytes', request: structured(hiredEvent({ tenant: 't'.repeat(1025) })), status: 400, type: ProblemType.invalidCloudEvent },
  { name: '21 extensions', request: structured(hiredEvent(Object.fromEntries(Array.from({ length: 21 }, (_, index) => [`ext${index}`, 'x'])))), status: 400, type: ProblemType.invalidCloudEvent },
  { name: 'id with an unpaired surrogate', request: structured(eventBody.replace('"evt-0001"', '"evt-\\udc00"')), status: 400, type: ProblemType.invalidCloudEvent },

  // Encodings and media types.
  { name: 'latin-1 bytes', request: structured(Buffer.from(JSON.stringify(withData({ givenName: 'Andr\u00e9' })), 'latin1')), status: 400, type: ProblemType.invalidJson },
  { name: 'UTF-16 with a byte order mark', request: structured(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(eventBody, 'utf16le')])), status: 400, type: ProblemType.invalidJson },
  { name: 'overlong UTF-8 encoding', request: structured(withBytes(eventBody, '"Ada"', [0x22, 0x41, 0x64, 0xc1, 0xa1, 0x22])), status: 400, type: ProblemType.invalidJson },
  { name: 'charset latin1', request: { headers: [['content-type', 'application/cloudevents+json; charset=latin1'], hrKey], body: eventBody }, status: 415, type: ProblemType.unsupportedMediaType },
  { name: 'text/plain', request: { headers: [['content-type', 'text/plain'], hrKey], body: eventBody }, status: 415, type: ProblemType.unsupportedMediaType },
  { name: 'no content type', request: { headers: [hrKey], body: eventBody }, status: 415, type: ProblemType.unsupportedMediaType },
  { name: 'multipart form', request: { headers: [['content-type', 'multipart/form-data; boundary=x'], hrKey], body: `--x\r\n\r\n${eventBody}\r\n--x--` }, status: 415, type: ProblemType.unsupportedMediaType },
  { name: 'gzip content encoding', request: { headers: [structuredType, hrKey, ['content-encoding', 'gzip']], body: gzipSync(eventBody) }, status: 415, type: ProblemType.unsupportedMediaType },

  // HTTP framing, rejected by Node's HTTP parser before the ingest receives a request.
  { name: 'content-length with transfer-encoding', request: framingBytes([...usualHeaders, `Content-Length: ${eventBody.length}`, 'Transfer-Encoding: chunked'], `${eventBody.length.toString(16)}\r\n${eventBody}\r\n0\r\n\r\n`), status: 400, type: null },
  { name: 'chunk size that is not hex', request: framingBytes([...usualHeaders, 'Transfer-Encoding: chunked'], `zz\r\n${eventBody}\r\n0\r\n\r\n`), status: 400, type: null },
  { name: 'two content-lengths', request: framingBytes([...usualHeaders, `Content-Length: ${eventBody.length}`, `Content-Length: ${eventBody.length + 1}`]), status: 400, type: null },
  { name: 'negative content-length', request: framingBytes([...usualHeaders, 'Content-Length: -1']), status: 400, type: null },
  { name: 'headers over 16 KiB', request: framingBytes([...usualHeaders, `X-Padding: ${'p'.repeat(17 * 1024)}`, `Content-Length: ${eventBody.length}`]), status: 431, type: null },
  { name: 'space in a header name', request: framingBytes([...usualHeaders, 'X Padding: 1', `Content-Length: ${eventBody.length}`]), status: 400, type: null },
  { name: 'folded header line', request: framingBytes([...usualHeaders, 'X-Padding: 1', ' 2', `Content-Length: ${eventBody.length}`]), status: 400, type: null },
  { name: 'NUL byte in a header value', request: framingBytes([...usualHeaders, 'X-Padding: a\u0000b', `Content-Length: ${eventBody.length}`]), status: 400, type: null },
  { name: 'bare LF line endings', request: Buffer.from(`POST /v1/events HTTP/1.1\nHost: ingest.test\nx-api-key: ${keys.hr.key}\nContent-Type: application/cloudevents+json\nContent-Length: ${eventBody.length}\n\n${eventBody}`), status: 400, type: null },
  { name: 'HTTP/1.1 without Host', request: { headers: [structuredType, hrKey, ['connection', 'close']], body: eventBody, bare: true }, status: 400, type: null },
  { name: 'body longer than content-length', request: framingBytes([...usualHeaders, `Content-Length: ${eventBody.length - 10}`]), status: 400, type: null },
  { name: 'body cut off before content-length', request: framingBytes([...usualHeaders, `Content-Length: ${eventBody.length + 100}`]), status: 400, type: null, halfClose: true },
  { name: 'request line that is not HTTP', request: Buffer.from('HELLO\r\n\r\n'), status: 400, type: null },
  { name: 'PUT on the collection', request: { method: 'PUT', headers: [structuredType, hrKey], body: eventBody }, status: 405, type: ProblemType.methodNotAllowed },
];

let admin: PubSub;
let ingest: IngestProcess;

beforeAll(async () => {
  const env = emulatorEnvironment(projectId);
  admin = new PubSub({ projectId, apiEndpoint: env.PUBSUB_EMULATOR_HOST });
  await provisionTopology({ projectId, topology: names, pushEndpoint: 'http://127.0.0.1:9/pubsub/push', pubsub: admin });
  await admin.topic(names.topic.name).createSubscription(watchSubscription);
  ingest = await startIngestProcess({ ...env, SOURCES_FILE: writeSourcesFile() });
});

afterAll(async () => {
  await ingest?.stop();
  await admin?.close();
});

async function send(row: HostileCase): Promise<RawResponse> {
  const bytes = Buffer.isBuffer(row.request) ? row.request : formatRequest(row.request);
  let response: RawResponse | undefined;
  for (let attempt = 0; attempt < (row.times ?? 1); attempt += 1) response = await sendRaw(ingest.port, bytes, { halfClose: row.halfClose });
  return response as RawResponse;
}

/** Receives by streaming pull until `isLast` matches a message, then for `graceMillis` more, and returns everything received. */
async function receiveUntil(subscription: Subscription, isLast: (message: Message) => boolean, graceMillis: number): Promise<Message[]> {
  const received: Message[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the control event did not arrive within 15 s; received ${received.length} messages`)), 15_000);
      subscription.on('error', reject);
      subscription.on('message', (message: Message) => {
        message.ack();
        received.push(message);
        if (isLast(message)) {
          clearTimeout(timer);
          setTimeout(resolve, graceMillis);
        }
      });
    });
  } finally {
    subscription.removeAllListeners();
    await subscription.close();
  }
  return received;
}

describe('hostile input at the edge', () => {
  it('table has at least 40 rows with unique names', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(cases.map((row) => row.name)).size).toBe(cases.length);
  });

  it.each(cases.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const response = await send(row);
    expect(response.status, response.body).toBe(row.status);
    if (row.type === null) {
      expect(response.body).toBe('');
    } else {
      expect(response.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(response.body)).toMatchObject({ type: row.type, status: row.status });
    }
    for (const [name, value] of Object.entries(row.headers ?? {})) expect(response.headers[name]).toMatch(value);
  });

  it('nothing reached the topic but the control event', async () => {
    const control = structured(hiredEvent({ id: 'hostile-control' }));
    const response = await sendRaw(ingest.port, formatRequest(control));
    expect(response.status).toBe(202);

    const received = await receiveUntil(admin.subscription(watchSubscription), (message) => message.attributes['ce-id'] === 'hostile-control', 1500);
    expect(received.map((message) => message.attributes['ce-id'])).toEqual(['hostile-control']);
    expect(received[0]?.attributes['ingest-principal']).toBe('hr-system');
  });

  it('no request was logged as a fault', () => {
    const faults = ingest.logs.filter((line) => line.severity === 'ERROR' || line.severity === 'CRITICAL');
    expect(faults).toEqual([]);
    const problems = ingest.logs.filter((line) => typeof line.status === 'number' && (line.status as number) >= 500);
    expect(problems).toEqual([]);
  });
});
