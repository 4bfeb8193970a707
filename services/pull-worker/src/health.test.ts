import { describe, expect, it } from 'vitest';
import { createHealthApp } from './health.ts';
import type { WorkerState } from './worker.ts';

const now = Date.parse('2027-01-04T09:00:00Z');

function probe(state: WorkerState, ageMillis: number) {
  const app = createHealthApp({ status: () => ({ state, since: now - ageMillis }), now: () => now, maxNotOpenMillis: 30_000 });
  return app.request('/health');
}

describe('GET /health', () => {
  it('open subscription is serving', async () => {
    const response = await probe('open', 3_600_000);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'serving', subscription: 'open', since: '2027-01-04T08:00:00.000Z' });
  });

  it('short re-open is still serving', async () => {
    for (const state of ['starting', 'reopening'] as const) {
      const response = await probe(state, 29_999);

      expect(response.status, state).toBe(200);
      expect(await response.json(), state).toMatchObject({ status: 'serving', subscription: state });
    }
  });

  it('long re-open is not serving', async () => {
    for (const state of ['starting', 'reopening'] as const) {
      const response = await probe(state, 30_000);

      expect(response.status, state).toBe(503);
      expect(await response.json(), state).toMatchObject({ status: 'not-serving', subscription: state });
    }
  });

  it('shutdown is not serving at once', async () => {
    for (const state of ['stopping', 'stopped'] as const) {
      const response = await probe(state, 0);

      expect(response.status, state).toBe(503);
      expect(await response.json(), state).toMatchObject({ status: 'not-serving', subscription: state });
    }
  });

  it('other paths are not found', async () => {
    const response = await createHealthApp({ status: () => ({ state: 'open', since: now }) }).request('/metrics');

    expect(response.status).toBe(404);
  });
});
