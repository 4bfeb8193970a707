import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { topology, type Topology, type TopologyOverrides } from '@hr-events/contract';
import { startPipeline, type Pipeline, type PipelineOptions } from '../../support/pipeline.ts';
import { uniqueProjectId } from '../../support/project.ts';
import { startFaultEmulators, type FaultEmulators } from './emulators.ts';
import { IngestClient } from './traffic.ts';

// The common frame of a fault scenario: emulators of its own, the three services from dist/ with
// short Pub/Sub timings, clients aimed at those emulators, and an ingest client that keeps every
// response.

/**
 * Production names with test timings: Pub/Sub's shortest ack deadline (10 s), its fewest delivery
 * attempts before dead-lettering (5), and retries after at most 1 s.
 */
export function faultTopology(overrides: TopologyOverrides['subscriptions'] = {}): Topology {
  const fast = { ackDeadlineSeconds: 10, maxDeliveryAttempts: 5, minimumBackoffSeconds: 0, maximumBackoffSeconds: 1 };
  return topology({
    subscriptions: {
      onboarding: { ...fast, ...overrides.onboarding },
      directory: { ...fast, ...overrides.directory },
      deadLetter: { ...overrides.deadLetter },
    },
  });
}

/**
 * For scenarios that leave Firestore transactions open: a pull worker stopped or killed while its
 * writes hang. The Firestore emulator holds the locks of those transactions for about a minute,
 * and each later delivery of the same event waits about 18 s on a lock before `ABORTED` (measured
 * here). Five attempts 1 s apart can all fall inside that window and dead-letter a valid event.
 * Production's retry policy (10 attempts, backoff from 10 s to 600 s) spreads its attempts over
 * much more than a minute, so these scenarios give the directory subscription production's
 * attempt count.
 */
export function abandonedLockTopology(): Topology {
  return faultTopology({ directory: { maxDeliveryAttempts: topology().subscriptions.directory.maxDeliveryAttempts } });
}

export interface Scenario {
  projectId: string;
  topology: Topology;
  emulators: FaultEmulators;
  pipeline: Pipeline;
  firestore: Firestore;
  pubsub: PubSub;
  client: IngestClient;
  /** Milliseconds since the epoch at which the pipeline was up. */
  startedAt: number;
  stop(): Promise<void>;
}

export type ScenarioOptions = Omit<PipelineOptions, 'projectId' | 'topology' | 'pubsubHost' | 'firestoreHost'> & { topology?: Topology };

/**
 * Starts the emulators, then the pipeline. `settings` may be a function of the emulators, for a
 * scenario that puts a proxy between a service and an emulator.
 */
export async function startScenario(label: string, settings: ScenarioOptions | ((emulators: FaultEmulators) => Promise<ScenarioOptions>) = {}): Promise<Scenario> {
  const emulators = await startFaultEmulators();
  const projectId = uniqueProjectId(label);
  let pipeline: Pipeline;
  let names: Topology;
  try {
    const options = typeof settings === 'function' ? await settings(emulators) : settings;
    names = options.topology ?? faultTopology();
    pipeline = await startPipeline({ ...options, projectId, topology: names, pubsubHost: emulators.pubsub.host, firestoreHost: emulators.firestore.host });
  } catch (error) {
    await emulators.stop();
    throw error;
  }
  const firestore = new Firestore({ projectId });
  const pubsub = new PubSub({ projectId });
  return {
    projectId,
    topology: names,
    emulators,
    pipeline,
    firestore,
    pubsub,
    client: new IngestClient(pipeline.ingest.url),
    startedAt: Date.now(),
    async stop() {
      await pipeline.stop();
      await Promise.allSettled([firestore.terminate(), pubsub.close()]);
      await emulators.stop();
    },
  };
}

/** Polls `condition` every 100 ms until it holds, and fails with `what` after `timeoutMillis`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMillis = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMillis} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Writes every log line of the scenario's services to a file in the temporary folder and returns its path, for a failed test's report. */
export function saveLogs(scenario: Scenario, label: string): string {
  const directory = join(tmpdir(), 'hr-events-faults');
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `${label}-${scenario.projectId}.jsonl`);
  const lines = [...scenario.pipeline.logs.entries()].flatMap(([service, entries]) => entries.map((entry) => JSON.stringify({ service, ...entry })));
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
