import { ProblemType } from '@hr-events/contract';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/emulators.ts';
import { PubSubEventPublisher } from '../src/publisher.ts';
import { hiredEvent } from './support/fixtures.ts';
import { createTestApp, jsonOf, postJson } from './support/harness.ts';

// The real Pub/Sub client aimed at a loopback port where nothing listens: the client keeps
// retrying UNAVAILABLE, so only the ingest's publish timeout ends the request.

const publishers: PubSubEventPublisher[] = [];

async function unreachablePublisher(): Promise<PubSubEventPublisher> {
  const port = await freePort();
  const publisher = new PubSubEventPublisher({
    projectId: 'demo-unreachable',
    topicName: 'hr-events',
    clientConfig: { apiEndpoint: `127.0.0.1:${port}`, emulatorMode: true },
  });
  publishers.push(publisher);
  return publisher;
}

afterAll(async () => {
  await Promise.all(publishers.map((publisher) => publisher.close()));
});

describe('Pub/Sub unreachable', () => {
  it('event gets 503 with Retry-After', async () => {
    const { app, logs } = createTestApp({ publisher: await unreachablePublisher(), publishTimeoutMillis: 300 });
    const startedAt = performance.now();
    const response = await postJson(app, hiredEvent());

    expect(performance.now() - startedAt).toBeLessThan(3000);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.publishUnavailable);
    expect(problem.detail).toContain('Pub/Sub did not confirm the event within 300 ms');
    expect(logs.at(-1)).toMatchObject({ severity: 'WARNING', status: 503, eventId: 'evt-0001', publishOutcome: 'timed-out' });
  });

  it('batch gets 503 and nothing accepted', async () => {
    const { app } = createTestApp({ publisher: await unreachablePublisher(), publishTimeoutMillis: 300 });
    const batch = [hiredEvent({ id: 'u-1' }), hiredEvent({ id: 'u-2' })];
    const responses = await Promise.all([
      postJson(app, batch, { 'content-type': 'application/cloudevents-batch+json' }),
      postJson(app, hiredEvent({ id: 'u-3' })),
    ]);
    expect(responses.map((response) => response.status)).toEqual([503, 503]);
    for (const response of responses) expect(await jsonOf(response)).not.toHaveProperty('accepted');
  });
});
