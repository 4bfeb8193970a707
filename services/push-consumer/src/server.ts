import type { Server } from 'node:http';
import { Firestore } from '@google-cloud/firestore';
import { serve } from '@hono/node-server';
import { DataValidator, createLogger, loadCatalog } from '@hr-events/contract';
import { createApp } from './app.ts';
import { ConfigError, readConfig, type PushConsumerConfig } from './config.ts';
import { FirstDeliveryFaults, SlowFirstDeliveries } from './fault-injection.ts';
import { FirestoreOnboardingStore } from './onboarding-store.ts';
import { pushAuthentication } from './push-authentication.ts';

// Process entry of the push consumer: reads the settings, wires the app to Firestore and Google's
// token certificates, listens, and on SIGTERM or SIGINT stops taking connections, lets in-flight
// push requests finish, closes Firestore and exits. Cloud Run allows 10 s after SIGTERM.

const service = 'push-consumer';
const shutdownTimeoutMillis = 9_000;

const config = readConfigOrExit();
const logger = createLogger({ service, level: config.logLevel });
const catalog = loadCatalog();
const firestore = new Firestore({ projectId: config.projectId, databaseId: config.firestoreDatabase });
const store = new FirestoreOnboardingStore(firestore);

if (config.pushAuthentication === 'disabled') {
  logger.warn(
    { pubsubEmulatorHost: config.pubsubEmulatorHost },
    'Push authentication is disabled (PUSH_AUTHENTICATION=disabled): push requests are accepted without a token. This is allowed only because PUBSUB_EMULATOR_HOST is set.',
  );
}
if (config.faultFailFirstDeliveryPercent > 0) {
  logger.warn(
    { faultFailFirstDeliveryPercent: config.faultFailFirstDeliveryPercent },
    `Fault injection is on: the first delivery of ${config.faultFailFirstDeliveryPercent}% of messages is answered 503.`,
  );
}

if (config.faultSlowFirstDeliveryPercent > 0) {
  logger.warn(
    { faultSlowFirstDeliveryPercent: config.faultSlowFirstDeliveryPercent, faultSlowDeliveryMillis: config.faultSlowDeliveryMillis },
    `Fault injection is on: the first delivery of ${config.faultSlowFirstDeliveryPercent}% of messages waits ${config.faultSlowDeliveryMillis} ms before its Firestore write.`,
  );
}

const app = createApp({
  authentication:
    config.pushAuthentication === 'disabled'
      ? 'disabled'
      : pushAuthentication({ audience: config.pushAudience, serviceAccountEmail: config.pushServiceAccount, logger }),
  store,
  catalog,
  validator: new DataValidator(catalog),
  logger,
  faults: config.faultFailFirstDeliveryPercent > 0 ? new FirstDeliveryFaults(config.faultFailFirstDeliveryPercent) : undefined,
  slowDeliveries:
    config.faultSlowFirstDeliveryPercent > 0 ? new SlowFirstDeliveries(config.faultSlowFirstDeliveryPercent, config.faultSlowDeliveryMillis) : undefined,
  projectId: config.projectId,
  maxDeliveryAttempts: config.maxDeliveryAttempts,
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  logger.info(
    {
      port: info.port,
      host: config.host,
      projectId: config.projectId,
      firestoreDatabase: config.firestoreDatabase,
      pushAuthentication: config.pushAuthentication,
      pushAudience: config.pushAudience,
      pushServiceAccount: config.pushServiceAccount,
      maxDeliveryAttempts: config.maxDeliveryAttempts,
    },
    `Push consumer listening on http://${config.host}:${info.port}.`,
  );
}) as Server;

server.on('error', (error) => {
  logger.fatal({ err: error }, `Push consumer cannot listen on ${config.host}:${config.port}: ${error.message}`);
  exitAfterLogs(1);
});

let stopping = false;
process.on('SIGTERM', () => void shutDown('SIGTERM'));
process.on('SIGINT', () => void shutDown('SIGINT'));

async function shutDown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'Stopping: no new connections; finishing in-flight push requests.');
  const forcedExit = setTimeout(() => {
    logger.error({ shutdownTimeoutMillis }, `In-flight push requests did not finish within ${shutdownTimeoutMillis} ms; exiting anyway, and Pub/Sub redelivers their messages.`);
    exitAfterLogs(1);
  }, shutdownTimeoutMillis);
  forcedExit.unref();

  // close() waits for every open connection. A keep-alive connection goes idle once its in-flight
  // response is sent and would then hold the server open until the keep-alive timeout, so idle
  // connections are closed as they appear.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
  await closed;
  clearInterval(idleSweep);

  try {
    await store.close();
  } catch (error) {
    logger.error({ err: error }, 'Closing the Firestore client failed; exiting anyway.');
  }
  logger.info({ signal }, 'Push consumer stopped.');
  exitAfterLogs(0);
}

/** Exits once pending log lines are written; an asynchronous write could otherwise be lost or reordered. */
function exitAfterLogs(code: number): void {
  logger.flush(() => process.exit(code));
}

function readConfigOrExit(): PushConsumerConfig {
  try {
    return readConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The log level itself may be the invalid setting, so this line uses the default level.
    createLogger({ service, level: 'info' }).fatal({ problems: error.problems }, error.message);
    process.exit(1);
  }
}
