import { freePort } from '../scripts/lib/emulators.ts';
import { builtEntry } from './build.ts';
import type { BenchContext } from './context.ts';
import { startProcess, type BenchProcess } from './processes.ts';
import { emulatorEnvironment, names, provisionPipeline } from './stack.ts';

// The whole pipeline from its build, as `npm start` runs it: the topology in a project of its own, the
// push consumer (its subscription pushes to it), the pull worker and the ingest.

export interface Pipeline {
  ingest: BenchProcess;
  pushConsumer: BenchProcess;
  pullWorker: BenchProcess;
  stop(): Promise<void>;
}

export interface PipelineOptions {
  /** File descriptors the ingest needs: one per client connection plus a margin. */
  ingestOpenFiles?: number;
}

export async function startPipeline(context: BenchContext, projectId: string, options: PipelineOptions = {}): Promise<Pipeline> {
  const environment = { ...emulatorEnvironment(context.emulators, projectId), LOG_LEVEL: 'info' };
  const pushPort = await freePort();
  await provisionPipeline(context.emulators, projectId, `http://127.0.0.1:${pushPort}${names.subscriptions.onboarding.pushPath}`);

  const started: BenchProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((service) => service.stop()));
  };
  try {
    // The emulator sends no OIDC token, so the push consumer runs with verification off, as in the local stack.
    const pushConsumer = await startProcess({
      name: `${projectId}-push-consumer`,
      nodeArgs: [builtEntry('push-consumer')],
      port: pushPort,
      env: { ...environment, PUSH_AUTHENTICATION: 'disabled' },
      logDirectory: context.logDirectory,
    });
    started.push(pushConsumer);
    const pullWorker = await startProcess({
      name: `${projectId}-pull-worker`,
      nodeArgs: [builtEntry('pull-worker')],
      port: await freePort(),
      env: { ...environment, SUBSCRIPTION: names.subscriptions.directory.name },
      logDirectory: context.logDirectory,
    });
    started.push(pullWorker);
    const ingest = await startProcess({
      name: `${projectId}-ingest`,
      nodeArgs: [builtEntry('ingest')],
      port: await freePort(),
      env: { ...environment, TOPIC: names.topic.name, ...context.ingestEnvironment },
      logDirectory: context.logDirectory,
      ...(options.ingestOpenFiles === undefined ? {} : { openFiles: options.ingestOpenFiles }),
    });
    started.push(ingest);
    return { ingest, pushConsumer, pullWorker, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
