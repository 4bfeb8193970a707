import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventKey } from '@hr-events/contract';
import { isChosenKey } from '../../services/push-consumer/src/fault-injection.ts';
import type { StructuredEvent } from '../fixtures/events.ts';
import { reconcile } from './support/reconcile.ts';
import { saveLogs, startScenario, waitFor, type Scenario } from './support/scenario.ts';
import { sendHostileEvents, validEvent } from './support/traffic.ts';

// A push delivery outlives the push subscription's ack deadline (10 s): the push consumer's
// FAULT_SLOW_FIRST_DELIVERY_PERCENT makes the first delivery of some events wait 15 s before its
// Firestore write. Measured on the emulator (0.8.20): like Pub/Sub, it sends the message again once
// the ack deadline passes, while the first request is still open. The redelivery writes the record,
// and the first attempt, when it resumes, finds it and ends with the outcome `duplicate`, so the
// effect happens once.
//
// The emulator keeps at most two push requests open, and while both are slow it cannot send the
// redelivery until one ends (measured). So the slow events are sent one at a time, each after the
// previous one has ended, as real Pub/Sub needs no such care.

const slowPercent = 10;
const slowDelayMillis = 15_000;
const ackDeadlineMillis = 10_000;
let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario('slow-push', {
    pushConsumerEnv: { FAULT_SLOW_FIRST_DELIVERY_PERCENT: String(slowPercent), FAULT_SLOW_DELIVERY_MS: String(slowDelayMillis) },
  });
});

afterAll(async () => {
  await scenario?.stop();
});

/** Returns `slowCount` batches of 15 events each, whose last event alone has a slow first push. */
function buildBatches(slowCount: number): StructuredEvent[][] {
  const slow: StructuredEvent[] = [];
  const fast: StructuredEvent[] = [];
  for (let index = 0; slow.length < slowCount || fast.length < 14 * slowCount; index += 1) {
    const event = validEvent(index);
    if (isChosenKey(eventKey(event.source, event.id), slowPercent)) slow.push(event);
    else fast.push(event);
  }
  return slow.slice(0, slowCount).map((event, batch) => [...fast.slice(batch * 14, batch * 14 + 14), event]);
}

describe('push slower than the ack deadline', () => {
  it('redelivery overlaps and the effect happens once', async ({ onTestFailed }) => {
    onTestFailed(() => console.error(`Service logs: ${saveLogs(scenario, 'slow-push')}`));
    const { pipeline, client } = scenario;
    const batches = buildBatches(2);
    const slow = batches.map((batch) => batch.at(-1)!);
    const lines = pipeline.logs.get('push-consumer')!;
    const outcomesOf = (event: StructuredEvent) => lines.filter((line) => line.eventId === event.id && line.outcome !== undefined);

    for (const batch of batches) {
      const sent = await client.postAll(batch, 4);
      expect(sent.every((record) => record.outcome === 'accepted')).toBe(true);
      // The slow attempt ends 15 s after it began; the next batch waits for it.
      await waitFor(`both attempts of ${batch.at(-1)!.id} to end`, () => outcomesOf(batch.at(-1)!).length >= 2, 40_000);
    }
    const hostile = await sendHostileEvents(client);
    expect(hostile.map((record) => record.status)).toEqual([400, 400, 403]);

    const figures = await reconcile({
      scenario: 'slow-push',
      title: `Push consumer's first delivery of ${slow.length} events takes ${slowDelayMillis / 1000} s, past the ${ackDeadlineMillis / 1000} s ack deadline`,
      pipeline,
      topology: scenario.topology,
      projectId: scenario.projectId,
      firestore: scenario.firestore,
      pubsub: scenario.pubsub,
      sent: client.sent,
      startedAt: scenario.startedAt,
      extra: { slowDeliveries: slow.length, slowDelaySeconds: slowDelayMillis / 1000, ackDeadlineSeconds: ackDeadlineMillis / 1000 },
    });
    expect(figures.problems).toEqual([]);

    // Each slow event: the redelivery was processed while the first attempt waited, then the first
    // attempt ended as a duplicate of it.
    for (const event of slow) {
      const delayed = lines.find((line) => line.eventId === event.id && line.injectedDelayMillis !== undefined);
      const outcomes = outcomesOf(event);
      expect(delayed, event.id).toBeDefined();
      expect(outcomes.map((line) => line.outcome), event.id).toEqual(['processed', 'duplicate']);
      const delayedAt = Date.parse(String(delayed!.time));
      const processedAt = Date.parse(String(outcomes[0]!.time));
      expect(processedAt - delayedAt, event.id).toBeGreaterThanOrEqual(ackDeadlineMillis - 1_000);
      expect(processedAt - delayedAt, event.id).toBeLessThan(slowDelayMillis);
    }
    expect(figures.onboarding.duplicates).toBeGreaterThanOrEqual(slow.length);
  });
});
