import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collections, type HrCloudEvent } from '@hr-events/contract';
import { freePort } from '../../../scripts/lib/emulators.ts';
import { provisionTopology } from '../../../scripts/lib/provision.ts';
import { emulatorEnvironment, uniqueProjectId } from '../../../test/support/project.ts';
import { eventually, hiredEvent, publishEvents, readReceipt, testTopology, type LogLine } from './harness.ts';
import { startPausableProxy } from '../../../test/support/pausable-proxy.ts';

// The real process entry (node services/pull-worker/src/server.ts). On SIGTERM while messages are
// in flight, the process exits within Cloud Run's 10 s, every message it acked has its effect, and
// a second worker applies the rest exactly once. Invalid settings stop it at start.

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const names = testTopology({ messageOrdering: true });
const cloudRunGraceMillis = 10_000;

interface WorkerProcess {
  child: ChildProcess;
  lines: LogLine[];
  port: number;
}

const workers: WorkerProcess[] = [];

/** Starts the worker's process entry, with `firestoreHost` in place of the Firestore emulator's address if given. */
async function startWorkerProcess(projectId: string, firestoreHost?: string): Promise<WorkerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['services/pull-worker/src/server.ts'], {
    cwd: repositoryRoot,
    env: {
      PATH: process.env.PATH,
      ...emulatorEnvironment(projectId),
      ...(firestoreHost === undefined ? {} : { FIRESTORE_EMULATOR_HOST: firestoreHost }),
      PORT: String(port),
      SUBSCRIPTION: names.subscriptions.directory.name,
      MAX_OUTSTANDING_MESSAGES: '10',
      MAX_DELIVERY_ATTEMPTS: String(names.subscriptions.directory.maxDeliveryAttempts),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const worker: WorkerProcess = { child, lines: [], port };
  workers.push(worker);
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      worker.lines.push(JSON.parse(line) as LogLine);
    } catch {
      worker.lines.push({ message: line, unstructured: true });
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => worker.lines.push({ message: line, stderr: true }));
  return worker;
}

async function sigterm(worker: WorkerProcess): Promise<{ code: number | null; elapsedMillis: number }> {
  const startedAt = Date.now();
  const exited = once(worker.child, 'exit') as Promise<[number | null]>;
  worker.child.kill('SIGTERM');
  const [code] = await exited;
  return { code, elapsedMillis: Date.now() - startedAt };
}

function outcomes(worker: WorkerProcess, kinds: string[]): string[] {
  return worker.lines.filter((line) => kinds.includes(line.outcome as string)).map((line) => line.eventId as string);
}

const stoppedLine = (worker: WorkerProcess) => worker.lines.find((line) => line.message.startsWith('pull worker stopped'));

async function processedReceiptCount(firestore: Firestore): Promise<number> {
  const snapshot = await firestore.collection(collections.receipts).where('consumers.directory.status', '==', 'processed').count().get();
  return snapshot.data().count;
}

/** Provisions a project of its own for the enclosing describe block and returns its clients. */
function project(label: string) {
  const projectId = uniqueProjectId(label);
  const pubsub = new PubSub({ projectId });
  const context = { projectId, pubsub, firestore: new Firestore({ projectId }) };
  beforeAll(async () => {
    await provisionTopology({ projectId, topology: names, pushEndpoint: 'http://127.0.0.1:9/pubsub/push', pubsub });
  });
  afterAll(async () => {
    await Promise.all([pubsub.close(), context.firestore.terminate()]);
  });
  return context;
}

afterAll(() => {
  for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
});

describe('pull worker process', () => {
  describe('while messages stream in', () => {
    const context = project('pull-sigterm');

    it('finishes in-flight work and leaves the rest', async ({ onTestFailed }) => {
      onTestFailed(() => printLogs());
      const { pubsub, projectId, firestore } = context;
      const first = await startWorkerProcess(projectId);
      await eventually('first worker listening', () => first.lines.some((line) => line.message === 'health endpoint listening'), 20_000);

      // Publish in small batches until after the SIGTERM, so that messages arrive while the first
      // worker stops and some only reach the second.
      const published: HrCloudEvent[] = [];
      let publishing = true;
      const publisher = (async () => {
        for (let batch = 0; publishing; batch += 1) {
          const events = Array.from({ length: 5 }, (_, index) => hiredEvent(`P-stream-${batch}-${index}`, `stream-${batch}-${index}`, '2027-01-04T09:00:00Z'));
          await publishEvents(pubsub, names, events);
          published.push(...events);
          await sleep(20);
        }
      })();
      await eventually('first worker acking', () => outcomes(first, ['processed']).length >= 20, 20_000);
      const stop = sigterm(first);
      await sleep(300);
      publishing = false;
      await publisher;
      const { code, elapsedMillis } = await stop;

      expect(code).toBe(0);
      expect(elapsedMillis).toBeLessThan(cloudRunGraceMillis);
      expect(stoppedLine(first)).toMatchObject({ unfinished: 0 });
      expect(first.lines.filter((line) => line.stderr === true || line.unstructured === true)).toEqual([]);

      // Every message the first worker acked has its effect already.
      const ackedByFirst = outcomes(first, ['processed', 'stale', 'duplicate']);
      for (const id of ackedByFirst) {
        expect((await readReceipt(firestore, 'hr-system', id))?.consumers?.directory, id).toBeDefined();
      }

      const second = await startWorkerProcess(projectId);
      await eventually('every event in the directory', async () => (await processedReceiptCount(firestore)) === published.length, 20_000);
      expect((await sigterm(second)).code).toBe(0);

      // Each event was applied once, and the second worker had work left to do.
      const applied = [...outcomes(first, ['processed']), ...outcomes(second, ['processed'])].sort();
      expect(applied).toEqual(published.map((event) => event.id).sort());
      expect(outcomes(second, ['processed']).length).toBeGreaterThan(0);
      expect(outcomes(first, ['poison', 'retry'])).toEqual([]);
    });
  });

  describe('while Firestore hangs', () => {
    const context = project('pull-hang');

    it('exits in time and nacks unfinished work', async ({ onTestFailed }) => {
      onTestFailed(() => printLogs());
      const { pubsub, projectId, firestore } = context;
      // The worker reaches Firestore through a proxy that the test can stop, so its transactions
      // hang while the emulator, shared with other test files, keeps serving.
      const proxy = await startPausableProxy(process.env.FIRESTORE_EMULATOR_HOST!);
      const first = await startWorkerProcess(projectId, proxy.host);
      const warmUp = hiredEvent('P-hang-warm', 'hang-warm', '2027-01-04T09:00:00Z');
      await publishEvents(pubsub, names, [warmUp]);
      await eventually('first worker processing', () => outcomes(first, ['processed']).length === 1, 20_000);

      proxy.pause();
      const events = Array.from({ length: 20 }, (_, index) => hiredEvent(`P-hang-${index}`, `hang-${index}`, '2027-01-04T09:00:00Z'));
      await publishEvents(pubsub, names, events);
      await sleep(500);

      const stop = sigterm(first);
      await sleep(200);
      const health = await fetch(`http://127.0.0.1:${first.port}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'not-serving', subscription: 'stopping' });
      const { code, elapsedMillis } = await stop;
      await proxy.close();

      expect(code).toBe(0);
      expect(elapsedMillis).toBeLessThan(cloudRunGraceMillis);
      expect(stoppedLine(first)?.unfinished).toBeGreaterThan(0);
      expect(outcomes(first, ['processed', 'stale', 'duplicate', 'retry'])).toEqual(['hang-warm']);

      // No write of the first worker got through, so the second applies every event, once.
      const second = await startWorkerProcess(projectId);
      await eventually('every event in the directory', async () => (await processedReceiptCount(firestore)) === events.length + 1, 20_000);
      expect((await sigterm(second)).code).toBe(0);
      expect(outcomes(second, ['processed']).sort()).toEqual(events.map((event) => event.id).sort());
    });
  });
});

describe('pull worker process configuration', () => {
  it('fault injection in production is rejected', async () => {
    // No emulator variables: the settings describe a production run.
    const child = spawn(process.execPath, ['services/pull-worker/src/server.ts'], {
      cwd: repositoryRoot,
      env: { PATH: process.env.PATH, GOOGLE_CLOUD_PROJECT: 'demo-hr-events', METADATA_SERVER_DETECTION: 'none', FAULT_FAIL_FIRST_DELIVERY_PERCENT: '20' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];

    expect(code).toBe(1);
    const line = JSON.parse(output.join('').trim()) as LogLine;
    expect(line).toMatchObject({ severity: 'CRITICAL', service: 'pull-worker' });
    expect(line.message).toMatch(/FAULT_FAIL_FIRST_DELIVERY_PERCENT=20 injects failures for tests and is rejected outside the emulators/);
  });
});

function printLogs(): void {
  for (const [index, worker] of workers.entries()) {
    console.log(`worker process ${index + 1}:\n${worker.lines.map((line) => JSON.stringify(line)).join('\n')}`);
  }
}
