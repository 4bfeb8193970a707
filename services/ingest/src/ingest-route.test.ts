import { ProblemType, maxBodyBytes, type OutgoingMessage } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { engagedEvent, hiredData, hiredEvent } from '../test/support/fixtures.ts';
import { createTestApp, jsonOf, InMemoryPublisher, postJson } from '../test/support/harness.ts';
import type { EventPublisher } from './publisher.ts';

const batchType = { 'content-type': 'application/cloudevents-batch+json' };
const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** A publisher whose publishes never settle, as when Pub/Sub does not respond. */
const stalledPublisher: EventPublisher = {
  publish: () => new Promise<string>(() => {}),
  flush: async () => {},
  close: async () => {},
};

/** Fails every publish with the given gRPC status code, after publishing `okCount` messages. */
class FailingPublisher extends InMemoryPublisher {
  readonly code: number;

  readonly okCount: number;

  constructor(code: number, okCount = 0) {
    super();
    this.code = code;
    this.okCount = okCount;
  }

  override async publish(message: OutgoingMessage): Promise<string> {
    if (this.messages.length < this.okCount) return super.publish(message);
    throw Object.assign(new Error(`publish failed with ${this.code}`), { code: this.code });
  }
}

describe('POST /v1/events', () => {
  it('structured event is published and accepted', async () => {
    const publisher = new InMemoryPublisher();
    const { app } = createTestApp({ publisher });
    const response = await postJson(app, hiredEvent(), { traceparent });

    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe('/v1/events/evt-0001');
    expect(await jsonOf(response)).toEqual({ id: 'evt-0001', source: 'hr-system' });

    expect(publisher.messages).toHaveLength(1);
    const [message] = publisher.messages as [OutgoingMessage];
    expect(message.orderingKey).toBe('P-1001');
    expect(message.attributes).toMatchObject({
      'ce-specversion': '1.0',
      'ce-id': 'evt-0001',
      'ce-source': 'hr-system',
      'ce-type': 'hr.employee.hired',
      'ce-time': '2027-01-01T09:00:00Z',
      'content-type': 'application/json',
    });
    expect(message.attributes.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(message.attributes.traceparent).not.toBe(traceparent);
    const { employmentType, ...personFields } = hiredData();
    expect(JSON.parse(message.data.toString())).toEqual({ ...personFields, details: { employmentType } });
  });

  it('location percent-encodes the id', async () => {
    const { app } = createTestApp();
    const response = await postJson(app, hiredEvent({ id: 'hire/2027 #1?' }));
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe('/v1/events/hire%2F2027%20%231%3F');
  });

  it('plain JSON without ce headers is structured', async () => {
    const publisher = new InMemoryPublisher();
    const { app } = createTestApp({ publisher });
    const response = await postJson(app, engagedEvent(), { 'content-type': 'application/json; charset=utf-8' });
    expect(response.status).toBe(202);
    expect(publisher.messages[0]?.attributes['ce-type']).toBe('hr.contractor.engaged');
  });

  it('binary mode reads ce headers', async () => {
    const publisher = new InMemoryPublisher();
    const { app } = createTestApp({ publisher });
    const response = await postJson(app, hiredData(), {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'evt%2F7',
      'ce-source': 'hr-system',
      'ce-type': 'hr.employee.hired',
      'ce-tenant': 'acme',
    });
    expect(response.status).toBe(202);
    expect(await jsonOf(response)).toEqual({ id: 'evt/7', source: 'hr-system' });
    expect(publisher.messages[0]?.attributes).toMatchObject({ 'ce-id': 'evt/7', 'ce-tenant': 'acme' });
  });

  it('time of receipt fills a missing time', async () => {
    const publisher = new InMemoryPublisher();
    const { app } = createTestApp({ publisher });
    const before = Date.now();
    const { time: _omitted, ...event } = hiredEvent();
    expect((await postJson(app, event)).status).toBe(202);
    const time = Date.parse(publisher.messages[0]?.attributes['ce-time'] as string);
    expect(time).toBeGreaterThanOrEqual(before - 1);
    expect(time).toBeLessThanOrEqual(Date.now());
  });

  it('batch is published and every event accepted', async () => {
    const publisher = new InMemoryPublisher();
    const { app } = createTestApp({ publisher });
    const batch = [hiredEvent({ id: 'b-1' }), engagedEvent({ id: 'b-2' }), hiredEvent({ id: 'b-3', source: 'hr-system-eu' })];
    const response = await postJson(app, batch, batchType);

    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBeNull();
    expect(await jsonOf(response)).toEqual({
      accepted: [
        { id: 'b-1', source: 'hr-system' },
        { id: 'b-2', source: 'vendor-office' },
        { id: 'b-3', source: 'hr-system-eu' },
      ],
    });
    expect(publisher.messages.map((message) => message.attributes['ce-id'])).toEqual(['b-1', 'b-2', 'b-3']);
  });

  it('one invalid event rejects the whole batch', async () => {
    const publisher = new InMemoryPublisher();
    const { app } = createTestApp({ publisher });
    const batch = [hiredEvent({ id: 'b-0' }), hiredEvent({ id: 'b-1' }), hiredEvent({ id: 'b-2' }), hiredEvent({ id: 'b-3', data: hiredData({ workEmail: 'ada' }) })];
    const response = await postJson(app, batch, batchType);

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.invalidEventData);
    expect(problem.detail).toContain('1 of 4 events in the batch are invalid, so none was published');
    expect(problem.errors).toEqual([{ pointer: '/3/data/workEmail', detail: 'must be an email address, such as ada@example.com' }]);
    expect(publisher.messages).toHaveLength(0);
  });

  it('batch problems name every invalid index', async () => {
    const { app } = createTestApp();
    const batch = [hiredEvent({ id: '' }), hiredEvent(), 'not an event'];
    const problem = await jsonOf(await postJson(app, batch, batchType));
    expect(problem.type).toBe(ProblemType.invalidCloudEvent);
    expect(problem.errors).toEqual([
      { pointer: '/0/id', detail: 'attribute "id" must not be empty' },
      { pointer: '/2', detail: 'must be a JSON object holding one CloudEvent' },
    ]);
  });

  it('empty batch is rejected', async () => {
    const response = await postJson(createTestApp().app, [], batchType);
    expect(response.status).toBe(400);
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.invalidCloudEvent);
    expect(problem.detail).toBe('The batch is empty; send 1 to 100 events in the array.');
  });

  it('batch that is not an array is rejected', async () => {
    const response = await postJson(createTestApp().app, hiredEvent(), batchType);
    expect(response.status).toBe(400);
    expect((await jsonOf(response)).errors).toEqual([{ pointer: '', detail: 'must be a JSON array' }]);
  });

  it('batch over 100 events is 413', async () => {
    const publisher = new InMemoryPublisher();
    const batch = Array.from({ length: 101 }, (_, index) => hiredEvent({ id: `b-${index}` }));
    const response = await postJson(createTestApp({ publisher }).app, batch, batchType);
    expect(response.status).toBe(413);
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.batchTooLarge);
    expect(problem.detail).toContain('The batch has 101 events, more than 100');
    expect(publisher.messages).toHaveLength(0);
  });

  it('batch of 100 events is accepted', async () => {
    const batch = Array.from({ length: 100 }, (_, index) => hiredEvent({ id: `b-${index}` }));
    const response = await postJson(createTestApp().app, batch, batchType);
    expect(response.status).toBe(202);
    expect((await jsonOf(response)).accepted).toHaveLength(100);
  });

  it('data problems are invalid-event-data', async () => {
    const response = await postJson(createTestApp().app, hiredEvent({ data: hiredData({ workEmail: 'ada', startDate: '04/01/2027' }) }));
    expect(response.status).toBe(400);
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.invalidEventData);
    expect(problem.detail).toContain('(2 problems, first: /data/workEmail must be an email address');
    expect(problem.errors.map((error: { pointer: string }) => error.pointer)).toEqual(['/data/workEmail', '/data/startDate']);
  });

  it('envelope problems are invalid-cloudevent', async () => {
    const response = await postJson(createTestApp().app, hiredEvent({ specversion: '0.3', source: undefined }));
    const problem = await jsonOf(response);
    expect(response.status).toBe(400);
    expect(problem.type).toBe(ProblemType.invalidCloudEvent);
    expect(problem.errors).toEqual([
      { pointer: '/specversion', detail: 'unsupported specversion "0.3"; only CloudEvents "1.0" is accepted' },
      { pointer: '/source', detail: 'missing required attribute "source"' },
    ]);
  });

  it('unknown type is unknown-event-type', async () => {
    const response = await postJson(createTestApp().app, hiredEvent({ type: 'hr.employee.fired' }));
    const problem = await jsonOf(response);
    expect(response.status).toBe(400);
    expect(problem.type).toBe(ProblemType.unknownEventType);
    expect(problem.detail).toBe('Unknown event type "hr.employee.fired"; known types are hr.contractor.engaged, hr.employee.hired; send one of those types.');
    expect(problem.errors).toEqual([{ pointer: '/type', detail: expect.stringContaining('unknown event type') }]);
  });

  it('binary problems point at headers', async () => {
    const response = await postJson(createTestApp().app, hiredData(), {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-source': 'hr-system',
      'ce-type': 'hr.employee.hired',
    });
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.invalidCloudEvent);
    expect(problem.errors).toEqual([{ pointer: '/headers/ce-id', detail: 'missing required attribute "id"' }]);
  });

  it('malformed JSON is invalid-json', async () => {
    const response = await postJson(createTestApp().app, '{"id": "evt-1",, }');
    expect(response.status).toBe(400);
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.invalidJson);
    expect(problem.detail).toContain('at position 15 (line 1 column 16)');
  });

  it('wrong media type is 415', async () => {
    const response = await postJson(createTestApp().app, hiredEvent(), { 'content-type': 'text/plain' });
    expect(response.status).toBe(415);
    expect((await jsonOf(response)).type).toBe(ProblemType.unsupportedMediaType);
  });

  it('charset other than utf-8 is 415', async () => {
    const response = await postJson(createTestApp().app, hiredEvent(), { 'content-type': 'application/cloudevents+json; charset=latin1' });
    expect(response.status).toBe(415);
  });

  it('body over 1 MiB is 413', async () => {
    const publisher = new InMemoryPublisher();
    const body = JSON.stringify(hiredEvent({ padding: 'x'.repeat(maxBodyBytes) }));
    const response = await postJson(createTestApp({ publisher }).app, body, { 'content-length': String(Buffer.byteLength(body)) });
    expect(response.status).toBe(413);
    expect(response.headers.get('connection')).toBe('close');
    expect((await jsonOf(response)).type).toBe(ProblemType.payloadTooLarge);
    expect(publisher.messages).toHaveLength(0);
  });
});

describe('POST /v1/events when Pub/Sub fails', () => {
  it('publish timeout is 503 with Retry-After', async () => {
    const { app } = createTestApp({ publisher: stalledPublisher, publishTimeoutMillis: 30, retryAfterSeconds: 7 });
    const response = await postJson(app, hiredEvent());
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('7');
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.publishUnavailable);
    expect(problem.detail).toContain('Pub/Sub did not confirm the event within 30 ms; retry after 7 seconds.');
  });

  it('in-flight limit answers 503 at once', async () => {
    const { app } = createTestApp({ publisher: stalledPublisher, publishTimeoutMillis: 500, maxInflightPublishes: 100 });
    const batch = Array.from({ length: 100 }, (_, index) => hiredEvent({ id: `b-${index}` }));
    const firstRequest = postJson(app, batch, batchType);

    const startedAt = performance.now();
    const response = await postJson(app, hiredEvent());
    expect(performance.now() - startedAt).toBeLessThan(250);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect((await jsonOf(response)).detail).toContain('The ingest has 100 messages waiting for Pub/Sub and holds at most 100, so nothing was published');
    expect((await firstRequest).status).toBe(503);
  });

  it('failed publish is 503', async () => {
    const { app, logs } = createTestApp({ publisher: new FailingPublisher(14) });
    const response = await postJson(app, hiredEvent());
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect((await jsonOf(response)).detail).toContain('Publishing the event to Pub/Sub failed');
    expect(logs.find((line) => line.message === 'publish failed with gRPC code 14')).toMatchObject({ severity: 'ERROR', code: 14, eventIds: ['evt-0001'] });
  });

  it('batch failing part-way is 503', async () => {
    const publisher = new FailingPublisher(14, 2);
    const { app } = createTestApp({ publisher });
    const batch = [hiredEvent({ id: 'b-1' }), hiredEvent({ id: 'b-2' }), hiredEvent({ id: 'b-3' })];
    const response = await postJson(app, batch, batchType);
    expect(response.status).toBe(503);
    expect((await jsonOf(response)).detail).toContain('Publishing the 3 events to Pub/Sub failed');
    expect(publisher.messages).toHaveLength(2);
  });

  it('schema rejection is 500 without details', async () => {
    const { app, logs } = createTestApp({ publisher: new FailingPublisher(3) });
    const response = await postJson(app, hiredEvent());
    expect(response.status).toBe(500);
    expect(response.headers.get('retry-after')).toBeNull();
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.internal);
    expect(JSON.stringify(problem)).not.toContain('publish failed with 3');
    expect(logs.some((line) => line.severity === 'ERROR' && (line.err as { message?: string }).message === 'publish failed with 3')).toBe(true);
  });
});
