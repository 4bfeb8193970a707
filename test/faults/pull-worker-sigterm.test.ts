import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPausableProxy, type PausableProxy } from '../support/pausable-proxy.ts';
import { reconcile } from './support/reconcile.ts';
import { abandonedLockTopology, saveLogs, startScenario, waitFor, type Scenario } from './support/scenario.ts';
import { sendHostileEvents, validEvent } from './support/traffic.ts';

// SIGTERM reaches the pull worker while events stream in. So that messages are surely unfinished
// at that moment, the worker reaches Firestore through a loopback proxy that stops passing bytes
// just before the signal: its transactions hang. The worker must close the stream, give the
// messages in flight up to 6 s, nack the rest and exit within Cloud Run's 10 s. No message may be
// acked without its effect, and the nacks of the shutdown must not push any message to the
// dead-letter topic. A second worker then records the rest, each event once. The hung
// transactions leave locks behind in the Firestore emulator, so the directory subscription keeps
// production's delivery attempts (see abandonedLockTopology).

const eventCount = 400;
const cloudRunGraceMillis = 10_000;
let scenario: Scenario;
let proxy: PausableProxy;

beforeAll(async () => {
  scenario = await startScenario('pull-term', async (emulators) => {
    proxy = await startPausableProxy(emulators.firestore.host);
    return { topology: abandonedLockTopology(), pullWorkerEnv: { FIRESTORE_EMULATOR_HOST: proxy.host } };
  });
});

afterAll(async () => {
  await scenario?.stop();
  await proxy?.close();
});

describe('pull worker stopped under load', () => {
  it('nacks unfinished work and exits in time', async ({ onTestFailed }) => {
    onTestFailed(() => console.error(`Service logs: ${saveLogs(scenario, 'pull-worker-sigterm')}`));
    const { pipeline, client } = scenario;
    const [worker] = pipeline.pullWorkers;
    const lines = () => pipeline.logs.get('pull-worker-1') ?? [];

    const sending = client.postAll(Array.from({ length: eventCount }, (_, index) => validEvent(index)), 8);
    await waitFor('the worker to record 50 events', () => lines().filter((line) => line.outcome === 'processed').length >= 50);
    proxy.pause();
    await sleep(300);
    const signalledAt = Date.now();
    worker!.process.kill('SIGTERM');
    const exit = await worker!.exited;
    const exitMillis = Date.now() - signalledAt;
    proxy.resume();

    const sent = await sending;
    const hostile = await sendHostileEvents(client);
    expect(exit).toBe(0);
    expect(exitMillis).toBeLessThan(cloudRunGraceMillis);
    expect(sent.every((record) => record.outcome === 'accepted')).toBe(true);
    expect(hostile.map((record) => record.status)).toEqual([400, 400, 403]);
    const stopped = lines().find((line) => String(line.message).startsWith('pull worker stopped'));
    expect(stopped?.unfinished).toBeGreaterThan(0);
    const recordedByFirst = lines().filter((line) => line.outcome === 'processed').length;

    // The second process logs into the same list.
    await pipeline.startPullWorker('pull-worker-1');
    const figures = await reconcile({
      scenario: 'pull-worker-sigterm',
      title: 'SIGTERM to the pull worker with its Firestore writes hanging',
      pipeline,
      topology: scenario.topology,
      projectId: scenario.projectId,
      firestore: scenario.firestore,
      pubsub: scenario.pubsub,
      sent: client.sent,
      startedAt: scenario.startedAt,
      settleTimeoutMillis: 120_000,
      extra: {
        exitCode: exit,
        exitSeconds: Math.round(exitMillis / 100) / 10,
        inFlightAtSignal: stopped?.inFlightAtStop,
        nackedAtShutdown: stopped?.unfinished,
        recordedByFirstWorker: recordedByFirst,
      },
    });

    expect(figures.problems).toEqual([]);
    expect(figures.deadLettered).toBe(0);
    expect(figures.directory.recorded).toBe(eventCount);
    const attempts = lines().map((line) => Number(line.deliveryAttempt ?? 0));
    expect(Math.max(...attempts)).toBeLessThan(scenario.topology.subscriptions.directory.maxDeliveryAttempts);
  });
});
