import { existsSync, readFileSync } from 'node:fs';
import { PubSub } from '@google-cloud/pubsub';
import { inject } from 'vitest';
import type { Topology } from '@hr-events/contract';
import { freePort } from '../../scripts/lib/emulators.ts';
import { provisionTopology } from '../../scripts/lib/provision.ts';
import { startService, type ServiceProcess } from '../../scripts/lib/processes.ts';

// Runs the whole pipeline as separate processes from dist/ against the test emulators, the way the
// local stack does, and keeps every log line each service prints so tests can count effects.

export type LogLine = Record<string, unknown>;

export interface PipelineOptions {
  projectId: string;
  topology: Topology;
  /** Emulator hosts; the run's shared emulators by default. */
  pubsubHost?: string;
  firestoreHost?: string;
  pushConsumerEnv?: Record<string, string>;
  pullWorkerEnv?: Record<string, string>;
  ingestEnv?: Record<string, string>;
  /** Pull workers started with the pipeline (1 by default; 0 is allowed). */
  pullWorkers?: number;
}

export interface Pipeline {
  ingest: ServiceProcess;
  /** The push consumer running now; `restartPushConsumer` replaces it. */
  pushConsumer: ServiceProcess;
  pullWorkers: ServiceProcess[];
  /**
   * Every JSON log line, by service name (`ingest`, `push-consumer`, `pull-worker-1`, ...). A
   * service started again under the same name adds its lines to the same list.
   */
  logs: Map<string, LogLine[]>;
  environment: Record<string, string>;
  /** Starts a pull worker on the directory subscription, with `env` added to its settings, and adds it to `pullWorkers`. */
  startPullWorker(name: string, env?: Record<string, string>): Promise<ServiceProcess>;
  /** Stops the push consumer with SIGTERM and starts it again on the same port, with `env` added to its settings. */
  restartPushConsumer(env?: Record<string, string>): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

export const localSourcesFile = 'config/local-sources.json';

/** Reads the development API key of a source from the committed local sources file. */
export function localApiKey(principal: string): string {
  const file = JSON.parse(readFileSync(localSourcesFile, 'utf8')) as {
    principals: { name: string; apiKeys: { localDevelopmentKey?: string }[] }[];
  };
  const key = file.principals.find((entry) => entry.name === principal)?.apiKeys.find((entry) => entry.localDevelopmentKey)?.localDevelopmentKey;
  if (key === undefined) throw new Error(`${localSourcesFile} has no development key for "${principal}"`);
  return key;
}

export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const environment = {
    GOOGLE_CLOUD_PROJECT: options.projectId,
    PUBSUB_EMULATOR_HOST: options.pubsubHost ?? inject('pubsubEmulatorHost'),
    FIRESTORE_EMULATOR_HOST: options.firestoreHost ?? inject('firestoreEmulatorHost'),
    METADATA_SERVER_DETECTION: 'none',
    LOG_LEVEL: 'info',
  };
  const logs = new Map<string, LogLine[]>();
  const collect = (name: string) => {
    const lines = logs.get(name) ?? [];
    logs.set(name, lines);
    // startService splits each chunk of output at newlines, so a line that spans two chunks comes
    // in two pieces. A piece that starts a JSON object but does not parse is kept and joined with
    // the next one.
    let partial = '';
    return (piece: string) => {
      const text = partial + piece;
      try {
        lines.push(JSON.parse(text) as LogLine);
        partial = '';
      } catch {
        if (partial === '' && text.startsWith('{')) {
          partial = text;
        } else if (partial !== '' && piece.startsWith('{') && isJson(piece)) {
          lines.push({ message: partial, unparsed: true }, JSON.parse(piece) as LogLine);
          partial = '';
        } else if (partial !== '' && text.length < maxLineLength) {
          partial = text;
        } else {
          lines.push({ message: text, unparsed: true });
          partial = '';
        }
      }
    };
  };

  const pushPort = await freePort();
  // The client is aimed at the pipeline's emulator, which need not be the one in this process's environment.
  const pubsub = new PubSub({ projectId: options.projectId, apiEndpoint: environment.PUBSUB_EMULATOR_HOST, emulatorMode: true });
  try {
    await provisionTopology({
      projectId: options.projectId,
      topology: options.topology,
      pushEndpoint: `http://127.0.0.1:${pushPort}${options.topology.subscriptions.onboarding.pushPath}`,
      pubsub,
    });
  } finally {
    await pubsub.close();
  }

  const started: ServiceProcess[] = [];
  try {
    const startPushConsumer = async (env: Record<string, string> = {}) => {
      const service = await startService({
        name: 'push-consumer',
        entry: 'dist/push-consumer/server.mjs',
        port: pushPort,
        env: {
          ...environment,
          PUSH_AUTHENTICATION: 'disabled',
          MAX_DELIVERY_ATTEMPTS: String(options.topology.subscriptions.onboarding.maxDeliveryAttempts),
          ...options.pushConsumerEnv,
          ...env,
        },
        onOutput: collect('push-consumer'),
      });
      started.push(service);
      return service;
    };
    const pushConsumer = await startPushConsumer();

    const pullWorkers: ServiceProcess[] = [];
    const startPullWorker = async (name: string, env: Record<string, string> = {}) => {
      const worker = await startService({
        name,
        entry: 'dist/pull-worker/server.mjs',
        port: await freePort(),
        env: {
          ...environment,
          SUBSCRIPTION: options.topology.subscriptions.directory.name,
          MAX_DELIVERY_ATTEMPTS: String(options.topology.subscriptions.directory.maxDeliveryAttempts),
          ...options.pullWorkerEnv,
          ...env,
        },
        onOutput: collect(name),
      });
      started.push(worker);
      pullWorkers.push(worker);
      return worker;
    };
    for (let index = 1; index <= (options.pullWorkers ?? 1); index += 1) await startPullWorker(`pull-worker-${index}`);

    const ingestEnvironment: Record<string, string> = { ...environment, TOPIC: options.topology.topic.name, ...options.ingestEnv };
    if (existsSync(localSourcesFile) && ingestEnvironment.SOURCES_FILE === undefined) ingestEnvironment.SOURCES_FILE = localSourcesFile;
    const ingest = await startService({ name: 'ingest', entry: 'dist/ingest/server.mjs', port: await freePort(), env: ingestEnvironment, onOutput: collect('ingest') });
    started.push(ingest);

    const pipeline: Pipeline = {
      ingest,
      pushConsumer,
      pullWorkers,
      logs,
      environment,
      startPullWorker,
      async restartPushConsumer(env) {
        await pipeline.pushConsumer.stop();
        pipeline.pushConsumer = await startPushConsumer(env);
        return pipeline.pushConsumer;
      },
      async stop() {
        await Promise.all(started.map((service) => service.stop()));
      },
    };
    return pipeline;
  } catch (error) {
    await Promise.all(started.map((service) => service.stop('SIGKILL')));
    throw error;
  }
}

/** Maximum length of an unfinished log line kept while waiting for its end; a longer one is kept as unparsed text. */
const maxLineLength = 1024 * 1024;

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Log lines of one service (or of every service whose name starts with `prefix`) with an `outcome`. */
export function outcomes(pipeline: Pipeline, prefix: string): LogLine[] {
  return [...pipeline.logs.entries()].filter(([name]) => name.startsWith(prefix)).flatMap(([, lines]) => lines.filter((line) => line.outcome !== undefined));
}
