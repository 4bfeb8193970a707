import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPausableProxy, type PausableProxy } from '../support/pausable-proxy.ts';
import { reconcile } from './support/reconcile.ts';
import { saveLogs, startScenario, type Scenario } from './support/scenario.ts';
import { sendHostileEvents, startLoad } from './support/traffic.ts';

// SIGTERM reaches the ingest while 16 clients keep sending. So that requests are surely in flight
// at that moment, the ingest reaches Pub/Sub through a loopback proxy that keeps back its traffic
// from 300 ms before the signal to 500 ms after it, so every lane waits on a publish. The ingest must
// answer each of those requests, and answer 202 only for events on the topic, then exit by itself
// well within Cloud Run's 10 s. Requests that come after the listener closed get no response, and
// their events are not published.

const cloudRunGraceMillis = 10_000;
let scenario: Scenario;
let proxy: PausableProxy;

beforeAll(async () => {
  // Only the ingest goes through the proxy; the consumers reach the emulator directly.
  scenario = await startScenario('ingest-term', async (emulators) => {
    proxy = await startPausableProxy(emulators.pubsub.host);
    return { ingestEnv: { PUBSUB_EMULATOR_HOST: proxy.host } };
  });
});

afterAll(async () => {
  await scenario?.stop();
  await proxy?.close();
});

describe('ingest stopped under load', () => {
  it('answers in-flight requests and exits in time', async ({ onTestFailed }) => {
    onTestFailed(() => console.error(`Service logs: ${saveLogs(scenario, 'ingest-sigterm')}`));
    const { pipeline, client } = scenario;

    const load = startLoad(client, { concurrency: 16, maxRequests: 5_000, pauseMillis: 10 });
    await sleep(1_000);
    const hostile = await sendHostileEvents(client);
    await sleep(1_000);
    proxy.pause();
    await sleep(300);
    const signalledAt = Date.now();
    pipeline.ingest.process.kill('SIGTERM');
    await sleep(500);
    proxy.resume();
    const exit = await pipeline.ingest.exited;
    const exitMillis = Date.now() - signalledAt;
    const sent = await load.finished;

    const inFlightAtSignal = sent.filter((record) => record.startedAt < signalledAt && record.finishedAt > signalledAt);
    const answeredAfterSignal = sent.filter((record) => record.startedAt >= signalledAt && record.status !== undefined);
    expect(exit).toBe(0);
    expect(exitMillis).toBeLessThan(cloudRunGraceMillis);
    expect(inFlightAtSignal.length).toBe(16);
    expect(inFlightAtSignal.map((record) => record.status)).toEqual(inFlightAtSignal.map(() => 202));
    expect(sent.filter((record) => record.startedAt < signalledAt).every((record) => record.outcome === 'accepted')).toBe(true);
    expect(hostile.map((record) => record.status)).toEqual([400, 400, 403]);

    const figures = await reconcile({
      scenario: 'ingest-sigterm',
      title: 'SIGTERM to the ingest with 16 clients sending and publishes in flight',
      pipeline,
      topology: scenario.topology,
      projectId: scenario.projectId,
      firestore: scenario.firestore,
      pubsub: scenario.pubsub,
      sent: client.sent,
      startedAt: scenario.startedAt,
      extra: {
        exitCode: exit,
        exitSeconds: Math.round(exitMillis / 100) / 10,
        requestsInFlightAtSignal: inFlightAtSignal.length,
        answeredAfterSignal: answeredAfterSignal.length,
      },
    });

    expect(figures.problems).toEqual([]);
    expect(figures.accepted).toBeGreaterThan(100);
    expect(figures.unanswered).toBeGreaterThan(0);
    expect(figures.rejected).toBe(3);
    expect(figures.onboarding.recorded).toBe(figures.accepted);
    expect(figures.directory.recorded).toBe(figures.accepted);
  });
});
