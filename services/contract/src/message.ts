import type { Catalog } from './catalog.ts';
import { isRfc3339, type HrCloudEvent } from './cloudevent.ts';
import type { FieldProblem } from './problems.ts';
import type { DataValidator } from './validation.ts';

// How an HR event travels on the topic. The CloudEvents context is carried in `ce-*` attributes,
// as the CloudEvents Pub/Sub protocol binding defines; the W3C trace context in `traceparent`; the
// data as the Avro record in JSON encoding (person fields by name, type-specific fields in
// `details`); and the person id is the ordering key, so one person's events arrive in order.

export interface OutgoingMessage {
  data: Buffer;
  attributes: Record<string, string>;
  orderingKey: string;
}

/** The topic record: plain JSON, readable without Avro. */
export interface TopicRecord {
  [personField: string]: string | Record<string, string>;
  details: Record<string, string>;
}

export function toPubSubMessage(event: HrCloudEvent, catalog: Catalog, traceparent: string): OutgoingMessage {
  const record: TopicRecord = { details: {} };
  for (const field of catalog.personFields) record[field] = event.data[field] as string;
  for (const field of catalog.types.get(event.type)?.detailFields ?? []) {
    const value = event.data[field];
    if (value !== undefined) record.details[field] = value;
  }

  const attributes: Record<string, string> = {
    'ce-specversion': event.specversion,
    'ce-id': event.id,
    'ce-source': event.source,
    'ce-type': event.type,
    'ce-time': event.time,
    'content-type': 'application/json',
    traceparent,
  };
  if (event.subject !== undefined) attributes['ce-subject'] = event.subject;
  if (event.dataschema !== undefined) attributes['ce-dataschema'] = event.dataschema;
  for (const [name, value] of Object.entries(event.extensions)) {
    if (name !== 'traceparent' && name !== 'tracestate') attributes[`ce-${name}`] = value;
  }
  if (event.extensions.tracestate !== undefined) attributes.tracestate = event.extensions.tracestate;

  return { data: Buffer.from(JSON.stringify(record)), attributes, orderingKey: event.data.personId as string };
}

/** Reason a consumer cannot process a message, which then goes to the dead-letter topic. */
export type PoisonReason = 'missing-attribute' | 'invalid-attribute' | 'unknown-type' | 'undecodable-data' | 'invalid-data';

export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';

  readonly reason: PoisonReason;

  /**
   * The field problems behind an `invalid-data` error (empty for other reasons). A pointer names a
   * field without its value, so consumers can log the pointers where the message would show data.
   */
  readonly problems: FieldProblem[];

  constructor(reason: PoisonReason, message: string, problems: FieldProblem[] = []) {
    super(message);
    this.reason = reason;
    this.problems = problems;
  }
}

/**
 * Rebuilds the event from a Pub/Sub message and validates it with the same schema as the edge.
 * Throws PoisonMessageError when the message cannot be processed, however often it is redelivered.
 */
export function fromPubSubMessage(
  data: Buffer | Uint8Array,
  attributes: Record<string, string> | undefined,
  catalog: Catalog,
  validator: DataValidator,
): HrCloudEvent {
  const context = attributes ?? {};
  for (const name of ['ce-specversion', 'ce-id', 'ce-source', 'ce-type', 'ce-time']) {
    if (!context[name]) throw new PoisonMessageError('missing-attribute', `message has no "${name}" attribute`);
  }
  if (context['ce-specversion'] !== '1.0') {
    throw new PoisonMessageError('invalid-attribute', `unsupported ce-specversion "${context['ce-specversion']}"`);
  }
  if (!isRfc3339(context['ce-time'] as string)) {
    throw new PoisonMessageError('invalid-attribute', `ce-time "${context['ce-time']}" is not an RFC 3339 timestamp`);
  }
  const type = context['ce-type'] as string;
  const entry = catalog.types.get(type);
  if (entry === undefined) throw new PoisonMessageError('unknown-type', `unknown event type "${type}"`);

  const record = parseRecord(data);
  const eventData: Record<string, string> = {};
  for (const [field, value] of Object.entries(record)) {
    if (field !== 'details') eventData[field] = value as string;
  }
  for (const [field, value] of Object.entries(record.details ?? {})) eventData[field] = value;

  const problems = validator.validate(type, eventData, '/data');
  if (problems.length > 0) {
    const summary = problems.map((problem) => `${problem.pointer} ${problem.detail}`).join('; ');
    throw new PoisonMessageError('invalid-data', `data does not match the ${type} schema: ${summary}`, problems);
  }

  const extensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(context)) {
    if (name.startsWith('ce-') && !['ce-specversion', 'ce-id', 'ce-source', 'ce-type', 'ce-time', 'ce-subject', 'ce-dataschema'].includes(name)) {
      extensions[name.slice(3)] = value;
    }
  }
  const event: HrCloudEvent = {
    specversion: '1.0',
    id: context['ce-id'] as string,
    source: context['ce-source'] as string,
    type,
    time: context['ce-time'] as string,
    extensions,
    data: eventData,
  };
  if (context['ce-subject']) event.subject = context['ce-subject'];
  if (context['ce-dataschema']) event.dataschema = context['ce-dataschema'];
  return event;
}

function parseRecord(data: Buffer | Uint8Array): TopicRecord {
  let record: unknown;
  try {
    record = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    throw new PoisonMessageError('undecodable-data', 'message data is not JSON');
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new PoisonMessageError('undecodable-data', 'message data is not a JSON object');
  }
  const details = (record as { details?: unknown }).details;
  if (details !== undefined && (typeof details !== 'object' || details === null || Array.isArray(details))) {
    throw new PoisonMessageError('undecodable-data', 'message data has a "details" member that is not an object');
  }
  return record as TopicRecord;
}
