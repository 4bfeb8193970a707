import { describe, expect, it } from 'vitest';
import { loadCatalog } from './catalog.ts';
import { parseStructuredEvent } from './cloudevent.ts';
import { fromPubSubMessage, PoisonMessageError, toPubSubMessage } from './message.ts';
import { DataValidator } from './validation.ts';
import { engagedEvent, hiredEvent } from '../../../test/fixtures/events.ts';

const catalog = loadCatalog();
const validator = new DataValidator(catalog);
const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function encode(input: ReturnType<typeof hiredEvent>) {
  const parsed = parseStructuredEvent(input, validator);
  if (parsed.event === undefined) throw new Error(JSON.stringify(parsed.problems));
  return { event: parsed.event, message: toPubSubMessage(parsed.event, catalog, traceparent) };
}

function poisonReason(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof PoisonMessageError) return error.reason;
    throw error;
  }
  return undefined;
}

describe('toPubSubMessage', () => {
  it('carries the context in ce- attributes and orders by person', () => {
    const { event, message } = encode(hiredEvent({ region: 'emea' }));
    expect(message.orderingKey).toBe(event.data.personId);
    expect(message.attributes).toEqual({
      'ce-specversion': '1.0',
      'ce-id': event.id,
      'ce-source': 'hr-system',
      'ce-type': 'hr.employee.hired',
      'ce-time': event.time,
      'ce-region': 'emea',
      'content-type': 'application/json',
      traceparent,
    });
  });

  it('moves type-specific fields into details', () => {
    const { event, message } = encode(engagedEvent());
    const record = JSON.parse(message.data.toString()) as Record<string, unknown>;
    expect(record.details).toEqual({ endDate: event.data.endDate, vendor: event.data.vendor });
    expect(record.personId).toBe(event.data.personId);
    expect(record.vendor).toBeUndefined();
  });
});

describe('fromPubSubMessage', () => {
  it('round-trips an event', () => {
    const { event, message } = encode(engagedEvent());
    expect(fromPubSubMessage(message.data, message.attributes, catalog, validator)).toEqual({ ...event, extensions: {} });
  });

  it('treats a missing ce-type as poison', () => {
    const { message } = encode(hiredEvent());
    delete message.attributes['ce-type'];
    expect(poisonReason(() => fromPubSubMessage(message.data, message.attributes, catalog, validator))).toBe('missing-attribute');
  });

  it('treats absent attributes as poison', () => {
    const { message } = encode(hiredEvent());
    expect(poisonReason(() => fromPubSubMessage(message.data, undefined, catalog, validator))).toBe('missing-attribute');
  });

  it('treats an unknown type as poison', () => {
    const { message } = encode(hiredEvent());
    message.attributes['ce-type'] = 'hr.employee.promoted';
    expect(poisonReason(() => fromPubSubMessage(message.data, message.attributes, catalog, validator))).toBe('unknown-type');
  });

  it('treats an end date before the start date as poison', () => {
    const { message } = encode(engagedEvent());
    const record = JSON.parse(message.data.toString()) as { details: Record<string, string>; startDate: string };
    record.details.endDate = '2000-01-01';
    expect(poisonReason(() => fromPubSubMessage(Buffer.from(JSON.stringify(record)), message.attributes, catalog, validator))).toBe('invalid-data');
  });

  it('treats data that is not JSON as poison', () => {
    const { message } = encode(hiredEvent());
    expect(poisonReason(() => fromPubSubMessage(Buffer.from('\u0000\u0001'), message.attributes, catalog, validator))).toBe('undecodable-data');
  });
});
