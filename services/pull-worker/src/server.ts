import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { serve, type ServerType } from '@hono/node-server';
import { createLogger, DataValidator, loadCatalog } from '@hr-events/contract';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type WorkerConfig } from './config.ts';
import { FirestoreDirectoryStore } from './directory-store.ts';
import { firstDeliveryFault } from './fault-injection.ts';
import { createMessageHandler } from './handler.ts';
import { createHealthApp } from './health.ts';
import { PullWorker } from './worker.ts';

// Process entry of the pull worker: reads the configuration, serves the health endpoint, runs the
// subscription and owns shutdown.

// Cloud Run sends SIGKILL 10 s after SIGTERM, so exit before that, even if a close hangs.
const exitDeadlineMillis = 9_000;
// The worker's close takes up to subscriberDefaults.closeTimeoutMillis (6 s). Closing the clients
// then gets this long, because a client waiting on an unreachable backend would delay the exit.
const clientCloseTimeoutMillis = 1_000;
const service = 'pull-worker';

function main(): void {
  let config: WorkerConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger({ service, level: 'info' }).fatal(error.message);
    process.exitCode = 1;
    return;
  }
  const logger = createLogger({ service, level: config.logLevel });

  // Clients: both read PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST by themselves.
  const pubsub = new PubSub({ projectId: config.projectId });
  const firestore = new Firestore({ projectId: config.projectId, databaseId: config.firestoreDatabase });

  const catalog = loadCatalog();
  const handleMessage = createMessageHandler({
    catalog,
    validator: new DataValidator(catalog),
    store: new FirestoreDirectoryStore(firestore),
    logger,
    projectId: config.projectId,
    maxDeliveryAttempts: config.maxDeliveryAttempts,
    fault: config.faultFailFirstDeliveryPercent > 0 ? firstDeliveryFault(config.faultFailFirstDeliveryPercent) : undefined,
  });
  if (config.faultFailFirstDeliveryPercent > 0) {
    logger.warn({ faultFailFirstDeliveryPercent: config.faultFailFirstDeliveryPercent }, 'fault injection on: the first delivery of a share of messages will be nacked');
  }

  const worker = new PullWorker({
    pubsub,
    subscriptionName: config.subscription,
    handleMessage,
    logger,
    maxOutstandingMessages: config.maxOutstandingMessages,
    maxOutstandingBytes: config.maxOutstandingBytes,
  });

  const server = serve({ fetch: createHealthApp({ status: () => worker.status() }).fetch, port: config.port, hostname: config.host }, (info) => {
    logger.info({ host: config.host, port: info.port, projectId: config.projectId, firestoreDatabase: config.firestoreDatabase }, 'health endpoint listening');
  });
  server.on('error', (error) => {
    logger.fatal({ err: error, host: config.host, port: config.port }, `cannot listen on ${config.host}:${config.port}; set PORT to a free port`);
    process.exit(1);
  });

  worker.start();

  let shuttingDown = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutdown requested');
    setTimeout(() => {
      logger.fatal({ exitDeadlineMillis }, 'shutdown did not finish in time; exiting with messages possibly unacked, which Pub/Sub redelivers');
      process.exit(1);
    }, exitDeadlineMillis).unref();
    void stopEverything(worker, pubsub, firestore, server, logger).then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/** Stops intake and drains the worker first, then closes the clients and the health endpoint. */
async function stopEverything(worker: PullWorker, pubsub: PubSub, firestore: Firestore, server: ServerType, logger: Logger): Promise<void> {
  await worker.stop();
  const closing = Promise.allSettled([pubsub.close(), firestore.terminate(), new Promise<void>((resolve) => server.close(() => resolve()))]);
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), clientCloseTimeoutMillis).unref());
  const results = await Promise.race([closing, timeout]);
  if (results === 'timeout') {
    logger.warn({ clientCloseTimeoutMillis }, 'closing the Pub/Sub and Firestore clients timed out; exiting anyway');
  } else {
    for (const result of results) {
      if (result.status === 'rejected') logger.warn({ err: result.reason }, 'closing a client failed during shutdown');
    }
  }
  logger.info('pull worker exited');
}

main();
