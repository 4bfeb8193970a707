import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { residentMebibytes, startSampler } from './support/process-stats.ts';
import { reconcile } from './support/reconcile.ts';
import { saveLogs, startScenario, waitFor, type Scenario } from './support/scenario.ts';
import { sendHostileEvents, startLoad, validEvent, type SentEvent } from './support/traffic.ts';

// Pub/Sub stops responding under load: its emulator is frozen with SIGSTOP on its process group for
// 12 s (a restart would lose every topic and message, because the emulator keeps no state). The
// ingest must not return 202 for an event Pub/Sub has not confirmed, so it returns 503 with
// Retry-After. It keeps at most MAX_INFLIGHT_PUBLISHES unconfirmed messages and returns 503 at once
// past that, so its memory stays bounded, and its health endpoint keeps responding. Once Pub/Sub is
// back, the ingest accepts events again by itself. Publishes that had timed out may still complete
// then, so an event that got a 503 may be recorded, but at most once.

const outageMillis = 12_000;
const signalMarginMillis = 250;
const maxInflightPublishes = 100;
const publishTimeoutMillis = 1_000;
// Memory the ingest may add while the outage lasts. The in-flight bound limits the client's queue to
// 100 messages of about 1 KiB, so the rest of the allowance covers the garbage of thousands of
// quick 503 responses before a collection.
const maxGrowthMebibytes = 96;
let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario('pubsub-down', {
    ingestEnv: { PUBLISH_TIMEOUT_MS: String(publishTimeoutMillis), MAX_INFLIGHT_PUBLISHES: String(maxInflightPublishes) },
  });
});

afterAll(async () => {
  await scenario?.stop();
});

describe('Pub/Sub unreachable under load', () => {
  it('ingest answers 503 and recovers by itself', async ({ onTestFailed }) => {
    onTestFailed(() => console.error(`Service logs: ${saveLogs(scenario, 'pubsub-outage')}`));
    const { pipeline, client, emulators } = scenario;
    const ingestPid = pipeline.ingest.process.pid!;

    const warmUp = await client.postAll(Array.from({ length: 50 }, (_, index) => validEvent(index)));
    expect(warmUp.every((record) => record.outcome === 'accepted')).toBe(true);
    const baselineMebibytes = residentMebibytes(ingestPid);

    emulators.pubsub.signal('SIGSTOP');
    const frozenAt = Date.now();
    const sampler = startSampler(ingestPid, pipeline.ingest.url);
    const load = startLoad(client, { concurrency: 32, maxRequests: 20_000, pauseMillis: 50 });
    await sleep(outageMillis);
    const duringOutage = await load.stop();
    const hostile = await sendHostileEvents(client);
    const samples = await sampler.stop();
    const thawedAt = Date.now();
    emulators.pubsub.signal('SIGCONT');

    // The ingest accepts events again without a restart.
    let firstAcceptedAfterMillis: number | undefined;
    await waitFor('the ingest to accept an event again', async () => {
      const record = await client.post(validEvent(0));
      if (record.outcome === 'accepted') firstAcceptedAfterMillis = Date.now() - thawedAt;
      return record.outcome === 'accepted';
    });
    const afterOutage = await client.postAll(Array.from({ length: 50 }, (_, index) => validEvent(index)));

    // Requests sent and completed while Pub/Sub was frozen: none accepted, each 503 with Retry-After.
    // The window opens a little after SIGSTOP, because the emulator may have written confirmations
    // to the socket just before it stopped.
    const insideOutage = duringOutage.filter((record) => record.startedAt >= frozenAt + signalMarginMillis && record.finishedAt <= thawedAt);
    const statuses = countBy(insideOutage, (record) => String(record.status));
    expect(insideOutage.length).toBeGreaterThan(100);
    expect(statuses).toEqual({ '503': insideOutage.length });
    expect(insideOutage.every((record) => record.retryAfter === '5')).toBe(true);
    expect(hostile.map((record) => record.status)).toEqual([400, 400, 403]);

    // Past the in-flight bound, requests were turned away at once instead of queued.
    const publishOutcomes = countBy(pipeline.logs.get('ingest')!, (line) => String(line.publishOutcome));
    expect(publishOutcomes['overloaded']).toBeGreaterThan(0);
    expect(publishOutcomes['timed-out']).toBeGreaterThan(0);
    expect(samples.healthStatuses.every((status) => status === 200)).toBe(true);
    const peakMebibytes = Math.max(...samples.residentMebibytes);
    expect(peakMebibytes - baselineMebibytes).toBeLessThan(maxGrowthMebibytes);
    expect(afterOutage.every((record) => record.outcome === 'accepted')).toBe(true);

    const figures = await reconcile({
      scenario: 'pubsub-outage',
      title: `Pub/Sub emulator frozen for ${outageMillis / 1000} s under load (32 concurrent clients)`,
      pipeline,
      topology: scenario.topology,
      projectId: scenario.projectId,
      firestore: scenario.firestore,
      pubsub: scenario.pubsub,
      sent: client.sent,
      startedAt: scenario.startedAt,
      extra: {
        outageSeconds: outageMillis / 1000,
        requestsDuringOutage: insideOutage.length,
        acceptedDuringOutage: insideOutage.filter((record) => record.outcome === 'accepted').length,
        overloadedResponses: publishOutcomes['overloaded'],
        timedOutResponses: publishOutcomes['timed-out'],
        maxInflightPublishes,
        publishTimeoutMillis,
        baselineMebibytes: Math.round(baselineMebibytes),
        peakMebibytes: Math.round(peakMebibytes),
        healthChecks: samples.healthStatuses.length,
        healthChecksNot200: samples.healthStatuses.filter((status) => status !== 200).length,
        firstAcceptedAfterSeconds: Math.round((firstAcceptedAfterMillis ?? 0) / 100) / 10,
      },
    });

    expect(figures.problems).toEqual([]);
    expect(figures.failed).toBe(0);
    expect(figures.unanswered).toBe(0);
  });
});

function countBy<T>(items: T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}
