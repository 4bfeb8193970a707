import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from './support/reconcile.ts';
import { saveLogs, startScenario, waitFor, type Scenario } from './support/scenario.ts';
import { sendHostileEvents, validEvent } from './support/traffic.ts';

// Firestore stops responding for 25 s (its emulator frozen with SIGSTOP) while events keep coming.
// The ingest does not need Firestore to accept events, so it keeps returning 202. The push
// consumer's commits time out after 20 s and it returns 503, and Pub/Sub also gives up on pushes
// still open after the 10 s ack deadline, so it delivers them again. The pull worker's
// transactions wait while the client extends its leases. Once Firestore is back, every event lands
// once: a commit that timed out but landed later makes the next delivery a duplicate.

const outageMillis = 25_000;
let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario('store-down');
});

afterAll(async () => {
  await scenario?.stop();
});

describe('Firestore unavailable', () => {
  it('every event lands once when it is back', async ({ onTestFailed }) => {
    onTestFailed(() => console.error(`Service logs: ${saveLogs(scenario, 'firestore-outage')}`));
    const { pipeline, client, emulators } = scenario;
    const onboardingLines = () => pipeline.logs.get('push-consumer')?.filter((line) => line.outcome !== undefined).length ?? 0;

    const before = await client.postAll(Array.from({ length: 60 }, (_, index) => validEvent(index)));
    await waitFor('onboarding to record the first events', () => onboardingLines() >= 60);

    emulators.firestore.signal('SIGSTOP');
    const frozenAt = Date.now();
    const during = await client.postAll(Array.from({ length: 120 }, (_, index) => validEvent(index)), 4);
    const hostile = await sendHostileEvents(client);
    await sleep(Math.max(0, outageMillis - (Date.now() - frozenAt)));
    const recordedWhileDown = onboardingLines() - 60;
    emulators.firestore.signal('SIGCONT');

    expect([...before, ...during].every((record) => record.outcome === 'accepted')).toBe(true);
    expect(hostile.map((record) => record.status)).toEqual([400, 400, 403]);
    const figures = await reconcile({
      scenario: 'firestore-outage',
      title: `Firestore emulator frozen for ${outageMillis / 1000} s under load`,
      pipeline,
      topology: scenario.topology,
      projectId: scenario.projectId,
      firestore: scenario.firestore,
      pubsub: scenario.pubsub,
      sent: client.sent,
      startedAt: scenario.startedAt,
      extra: { outageSeconds: outageMillis / 1000 },
    });

    expect(figures.problems).toEqual([]);
    expect(figures.accepted).toBe(180);
    expect(figures.onboarding.recorded).toBe(180);
    expect(figures.directory.recorded).toBe(180);
    // The outage showed: pushes failed with 503 and were retried, and nothing was recorded meanwhile.
    expect(figures.onboarding.retries).toBeGreaterThan(0);
    expect(recordedWhileDown).toBeLessThanOrEqual(figures.onboarding.retries);
    expect(figures.deadLettered).toBe(0);
  });
});
