import { ProblemType } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { hiredEvent } from '../test/support/fixtures.ts';
import { createTestApp, getAs, jsonOf, InMemoryStatusReader, postJson } from '../test/support/harness.ts';

describe('routing', () => {
  it('health is ok', async () => {
    const response = await createTestApp().app.request('/health');
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({ status: 'ok' });
  });

  it('health is 503 while shutting down', async () => {
    const response = await createTestApp({ isShuttingDown: () => true }).app.request('/health');
    expect(response.status).toBe(503);
    expect(response.headers.get('connection')).toBe('close');
    expect(await jsonOf(response)).toEqual({ status: 'shutting-down' });
  });

  it('requests still succeed while shutting down', async () => {
    const response = await postJson(createTestApp({ isShuttingDown: () => true }).app, hiredEvent());
    expect(response.status).toBe(202);
    expect(response.headers.get('connection')).toBe('close');
  });

  it('unknown route is a 404 problem', async () => {
    const response = await createTestApp().app.request('/v2/events', { method: 'POST' });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await jsonOf(response)).toEqual({
      type: ProblemType.notFound,
      title: 'Not found',
      status: 404,
      detail: 'No route matches POST /v2/events; the ingest serves POST /v1/events, GET /v1/events/{id} and GET /health.',
    });
  });

  it('wrong method is 405 with Allow', async () => {
    const { app } = createTestApp();
    const onCollection = await app.request('/v1/events', { method: 'GET' });
    expect(onCollection.status).toBe(405);
    expect(onCollection.headers.get('allow')).toBe('POST');
    expect((await jsonOf(onCollection)).type).toBe(ProblemType.methodNotAllowed);

    const onEvent = await app.request('/v1/events/evt-1', { method: 'DELETE' });
    expect(onEvent.status).toBe(405);
    expect(onEvent.headers.get('allow')).toBe('GET, HEAD');
    expect((await jsonOf(onEvent)).detail).toBe('DELETE is not allowed on /v1/events/evt-1; use GET, HEAD.');
  });

  it('unexpected error is a 500 without details', async () => {
    const statusReader = new InMemoryStatusReader();
    statusReader.findReceipts = async () => [null as never];
    const { app, logs } = createTestApp({ statusReader });
    const response = await getAs(app, '/v1/events/evt-1');

    expect(response.status).toBe(500);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({
      type: ProblemType.internal,
      title: 'Internal server error',
      status: 500,
      detail: 'The ingest failed unexpectedly; the error was logged. Retry later.',
    });
    expect(body).not.toContain('TypeError');
    const errorLine = logs.find((line) => line.message === 'request failed with an unexpected error');
    expect(errorLine).toMatchObject({ severity: 'ERROR', path: '/v1/events/evt-1', err: { type: 'TypeError' } });
  });
});

describe('request log', () => {
  it('writes one line per request with ids and trace', async () => {
    const { app, logs } = createTestApp();
    await postJson(app, hiredEvent(), { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });

    expect(logs).toHaveLength(1);
    const [line] = logs as [Record<string, unknown>];
    expect(line).toMatchObject({
      severity: 'INFO',
      message: 'POST /v1/events 202',
      service: 'ingest',
      method: 'POST',
      path: '/v1/events',
      status: 202,
      eventId: 'evt-0001',
      eventSource: 'hr-system',
      eventType: 'hr.employee.hired',
      messageId: '1',
      'logging.googleapis.com/trace': 'projects/demo-ingest/traces/0af7651916cd43dd8448eb211c80319c',
    });
    expect(line['logging.googleapis.com/spanId']).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof line.latencyMs).toBe('number');
  });

  it('never logs event data', async () => {
    const { app, logs } = createTestApp();
    await postJson(app, hiredEvent());
    await postJson(app, hiredEvent({ data: { personId: 'P-1', workEmail: 'not-an-email' } }));
    const text = JSON.stringify(logs);
    expect(logs).toHaveLength(2);
    expect(text).not.toContain('Lovelace');
    expect(text).not.toContain('ada@example.com');
    expect(text).not.toContain('not-an-email');
  });

  it('logs batch size and problem type', async () => {
    const { app, logs } = createTestApp();
    await postJson(app, [hiredEvent({ id: 'b-1' }), hiredEvent({ id: 'b-2' })], { 'content-type': 'application/cloudevents-batch+json' });
    await postJson(app, '{', {});
    expect(logs[0]).toMatchObject({ status: 202, eventCount: 2 });
    expect(logs[1]).toMatchObject({ status: 400, problemType: ProblemType.invalidJson });
  });
});
