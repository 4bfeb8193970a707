import { ProblemType, type EventReceipt } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { createTestApp, getAs, jsonOf, InMemoryStatusReader } from '../test/support/harness.ts';
import type { StatusReader } from './status.ts';

const processedAt = '2027-01-01T09:00:02.000Z';

function receipt(source: string, consumers: EventReceipt['consumers'], id = 'evt-0001'): EventReceipt {
  return { id, source, type: 'hr.employee.hired', consumers };
}

describe('GET /v1/events/{id}', () => {
  it('returns what each consumer recorded', async () => {
    const statusReader = new InMemoryStatusReader([
      receipt('hr-system', { onboarding: { status: 'processed', at: processedAt }, directory: { status: 'stale', at: processedAt } }),
    ]);
    const response = await getAs(createTestApp({ statusReader }).app, '/v1/events/evt-0001');
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({
      id: 'evt-0001',
      source: 'hr-system',
      consumers: { onboarding: { status: 'processed', at: processedAt }, directory: { status: 'stale', at: processedAt } },
    });
  });

  it('leaves out consumers that recorded nothing', async () => {
    const statusReader = new InMemoryStatusReader([receipt('hr-system', { directory: { status: 'processed', at: processedAt } })]);
    const body = await jsonOf(await getAs(createTestApp({ statusReader }).app, '/v1/events/evt-0001'));
    expect(body.consumers).toEqual({ directory: { status: 'processed', at: processedAt } });
  });

  it('decodes a percent-encoded id', async () => {
    const statusReader = new InMemoryStatusReader([receipt('hr-system', { onboarding: { status: 'processed', at: processedAt } }, 'hire/2027 #1?')]);
    const response = await getAs(createTestApp({ statusReader }).app, '/v1/events/hire%2F2027%20%231%3F');
    expect(response.status).toBe(200);
    expect((await jsonOf(response)).id).toBe('hire/2027 #1?');
  });

  it('unrecorded event is 404 with a hint', async () => {
    const statusReader = new InMemoryStatusReader([receipt('hr-system', {})]);
    const response = await getAs(createTestApp({ statusReader }).app, '/v1/events/evt-0001');
    expect(response.status).toBe(404);
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.notFound);
    expect(problem.detail).toContain('No consumer has recorded event "evt-0001" yet. That is normal for a few seconds after the 202');
  });

  it('id recorded for several sources is 409', async () => {
    const statusReader = new InMemoryStatusReader([
      receipt('vendor-office', { onboarding: { status: 'processed', at: processedAt } }),
      receipt('hr-system', { onboarding: { status: 'processed', at: processedAt } }),
    ]);
    const response = await getAs(createTestApp({ statusReader }).app, '/v1/events/evt-0001');
    expect(response.status).toBe(409);
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.ambiguousEventId);
    expect(problem.sources).toEqual(['hr-system', 'vendor-office']);
    expect(problem.detail).toBe('Event id "evt-0001" was recorded for 2 sources (hr-system, vendor-office); add ?source= with one of them.');
  });

  it('source parameter picks one', async () => {
    const statusReader = new InMemoryStatusReader([
      receipt('vendor-office', { onboarding: { status: 'processed', at: processedAt } }),
      receipt('hr-system', { directory: { status: 'processed', at: processedAt } }),
    ]);
    const response = await getAs(createTestApp({ statusReader }).app, '/v1/events/evt-0001?source=hr-system');
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({ id: 'evt-0001', source: 'hr-system', consumers: { directory: { status: 'processed', at: processedAt } } });
  });

  it('unknown source is 404', async () => {
    const statusReader = new InMemoryStatusReader([receipt('hr-system', { onboarding: { status: 'processed', at: processedAt } })]);
    const response = await getAs(createTestApp({ statusReader }).app, '/v1/events/evt-0001?source=hr-system-eu');
    expect(response.status).toBe(404);
    expect((await jsonOf(response)).detail).toContain('event "evt-0001" from source "hr-system-eu"');
  });

  it('store failure is 503 with Retry-After', async () => {
    const failing: StatusReader = { findReceipts: async () => Promise.reject(new Error('14 UNAVAILABLE: connection refused')) };
    const { app, logs } = createTestApp({ statusReader: failing });
    const response = await getAs(app, '/v1/events/evt-0001');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.storeUnavailable);
    expect(JSON.stringify(problem)).not.toContain('UNAVAILABLE');
    expect(logs.find((line) => line.severity === 'ERROR')).toMatchObject({ eventId: 'evt-0001', err: { message: '14 UNAVAILABLE: connection refused' } });
  });

  it('store timeout is 503', async () => {
    const stalled: StatusReader = { findReceipts: () => new Promise(() => {}) };
    const response = await getAs(createTestApp({ statusReader: stalled, statusReadTimeoutMillis: 20 }).app, '/v1/events/evt-0001');
    expect(response.status).toBe(503);
  });
});
