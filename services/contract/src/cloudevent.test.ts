import { describe, expect, it } from 'vitest';
import { DataValidator } from './validation.ts';
import { loadCatalog } from './catalog.ts';
import { parseBinaryEvent, parseStructuredEvent } from './cloudevent.ts';
import { engagedEvent, hiredEvent } from '../../../test/fixtures/events.ts';

const validator = new DataValidator(loadCatalog());

function pointers(result: ReturnType<typeof parseStructuredEvent>): string[] {
  return (result.problems ?? []).map((problem) => problem.pointer);
}

describe('parseStructuredEvent', () => {
  it('accepts a valid hire event', () => {
    const input = hiredEvent();
    const result = parseStructuredEvent(input, validator);
    expect(result.problems).toBeUndefined();
    expect(result.event).toMatchObject({ id: input.id, source: 'hr-system', type: 'hr.employee.hired', data: input.data });
  });

  it('fills in a missing time with the time of receipt', () => {
    const { time: _time, ...input } = hiredEvent();
    const receivedAt = new Date('2027-01-04T08:00:00Z');
    expect(parseStructuredEvent(input, validator, '', receivedAt).event?.time).toBe('2027-01-04T08:00:00.000Z');
  });

  it('reports every envelope and data problem at once', () => {
    const input = { ...engagedEvent(), specversion: '0.3', id: '', Bad: 1, time: 'yesterday' };
    input.data = { ...input.data, endDate: '2026-01-01', extra: 'x' };
    delete (input.data as Record<string, string>).vendor;
    const result = parseStructuredEvent(input, validator, '/2');
    expect(pointers(result)).toEqual(
      expect.arrayContaining(['/2/specversion', '/2/id', '/2/Bad', '/2/time', '/2/data/vendor', '/2/data/extra', '/2/data/endDate']),
    );
  });

  it('rejects an end date before the start date', () => {
    const result = parseStructuredEvent(engagedEvent({}, { startDate: '2027-03-01', endDate: '2027-02-28' }), validator);
    expect(result.problems).toEqual([{ pointer: '/data/endDate', detail: 'must not be before 2027-03-01' }]);
  });

  it('rejects an unknown type and names the known ones', () => {
    const result = parseStructuredEvent(hiredEvent({ type: 'hr.employee.fired' }), validator);
    expect(result.problems?.[0]?.detail).toContain('hr.contractor.engaged, hr.employee.hired');
  });

  it('rejects data and data_base64 together', () => {
    const input = { ...hiredEvent(), data_base64: Buffer.from('{}').toString('base64') };
    expect(pointers(parseStructuredEvent(input, validator))).toContain('/data_base64');
  });

  it('decodes JSON data sent as data_base64', () => {
    const { data, ...envelope } = hiredEvent();
    const result = parseStructuredEvent({ ...envelope, data_base64: Buffer.from(JSON.stringify(data)).toString('base64') }, validator);
    expect(result.event?.data).toEqual(data);
  });

  it('rejects non-JSON data content types', () => {
    expect(pointers(parseStructuredEvent(hiredEvent({ datacontenttype: 'text/xml' }), validator))).toEqual(['/datacontenttype']);
  });

  it('keeps valid extensions as strings', () => {
    const result = parseStructuredEvent(hiredEvent({ priority: 3, urgent: true, region: 'emea' }), validator);
    expect(result.event?.extensions).toEqual({ priority: '3', urgent: 'true', region: 'emea' });
  });

  it('rejects extension values that are objects or fractions', () => {
    expect(pointers(parseStructuredEvent(hiredEvent({ nested: { a: 1 }, ratio: 0.5 }), validator))).toEqual(['/nested', '/ratio']);
  });

  it('rejects attributes over the Pub/Sub value limit', () => {
    expect(pointers(parseStructuredEvent(hiredEvent({ id: 'x'.repeat(300) }), validator))).toEqual(['/id']);
  });

  it('rejects a body that is not an object', () => {
    expect(parseStructuredEvent([hiredEvent()], validator).problems).toEqual([{ pointer: '/', detail: 'must be a JSON object holding one CloudEvent' }]);
  });
});

describe('parseBinaryEvent', () => {
  it('reads percent-encoded ce- headers', () => {
    const { data, ...envelope } = hiredEvent({ subject: 'Ada Lovelace' });
    const headers: [string, string][] = Object.entries(envelope).map(([name, value]) => [`ce-${name}`, encodeURIComponent(String(value))]);
    const result = parseBinaryEvent(headers, 'application/json', data, validator);
    expect(result.event).toMatchObject({ id: envelope.id, subject: 'Ada Lovelace', datacontenttype: 'application/json', data });
  });

  it('points header problems at the header', () => {
    const result = parseBinaryEvent([['ce-specversion', '1.0'], ['ce-id', 'x'], ['ce-type', 'hr.employee.hired']], 'application/json', hiredEvent().data, validator);
    expect(result.problems).toEqual([{ pointer: '/headers/ce-source', detail: 'missing required attribute "source"' }]);
  });
});
