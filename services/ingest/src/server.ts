import { serve, type ServerType } from '@hono/node-server';
import { DataValidator, createLogger, loadCatalog } from '@hr-events/contract';
import type { Logger } from 'pino';
import { createApp } from './app.ts';
import { SourceAccess } from './auth/source-access.ts';
import { loadSourcesFile } from './auth/sources-file.ts';
import { ConfigError, readConfig, type IngestConfig } from './config.ts';
import { tuning } from './defaults.ts';
import { LazyFirestoreStatusReader } from './lazy-status-reader.ts';
import { logDestination } from './log-destination.ts';
import { PubSubEventPublisher } from './publisher.ts';

// Process entry of the ingest: reads the configuration, listens as soon as the app is built, and
// owns the signals. The Pub/Sub client loads right after the listener is up (see publisher.ts), and
// the Firestore client on the first status read (see lazy-status-reader.ts). Cloud Run sends SIGTERM
// 10 s before SIGKILL. On SIGTERM or SIGINT the ingest stops accepting connections, lets in-flight
// requests finish, flushes the publisher, closes the clients and exits. A deadline exits anyway if
// a step hangs.

const service = 'ingest';

const config = readConfigOrExit();
const logger = createLogger({ service, level: config.logLevel, destination: logDestination() });

const catalog = loadCatalog();
const sourceAccess = createSourceAccessOrExit();
const publisher = new PubSubEventPublisher({ projectId: config.projectId, topicName: config.topicName });
const statusReader = new LazyFirestoreStatusReader({ projectId: config.projectId, databaseId: config.firestoreDatabase });
let isShuttingDown = false;

const validator = new DataValidator(catalog);
const app = createApp({
  catalog,
  validator,
  publisher,
  statusReader,
  sourceAccess,
  logger,
  projectId: config.projectId,
  publishTimeoutMillis: config.publishTimeoutMillis,
  maxInflightPublishes: config.maxInflightPublishes,
  isShuttingDown: () => isShuttingDown,
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (address) => {
  logger.info(
    {
      host: config.host,
      port: address.port,
      topic: config.topicName,
      projectId: config.projectId,
      firestoreDatabase: config.firestoreDatabase,
      sourcesFile: config.sourcesFile,
      principals: [...sourceAccess.principals.keys()],
      audiences: config.audiences,
      // Empty in a build: types listed here had no validator compiled by the build, which slows each start.
      validatorsCompiledAtStart: validator.compiledAtStart,
    },
    `ingest listening on ${config.host}:${address.port}, publishing to topic ${config.topicName}`,
  );
});
server.once('error', (error) => {
  logger.fatal({ err: error, host: config.host, port: config.port }, `ingest cannot listen on ${config.host}:${config.port}`);
  process.exit(1);
});

process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

async function shutdown(signal: NodeJS.Signals): Promise<void> {
  isShuttingDown = true;
  logger.info({ signal }, `ingest stopping on ${signal}: closing the listener and finishing in-flight requests`);
  const deadline = setTimeout(() => {
    logger.error({ signal, deadlineMillis: tuning.shutdownDeadlineMillis }, `ingest did not stop within ${tuning.shutdownDeadlineMillis} ms; exiting anyway`);
    process.exit(1);
  }, tuning.shutdownDeadlineMillis);

  try {
    await closeServer(server);
    // Every request has its response, but the client may still hold messages of requests that timed out.
    await publisher.flush();
    await Promise.all([publisher.close(), statusReader.close()]);
  } catch (error) {
    logger.error({ err: error, signal }, 'ingest shutdown failed');
    process.exit(1);
  }
  clearTimeout(deadline);
  logger.info({ signal }, 'ingest stopped');
  process.exit(0);
}

/** Stops accepting connections and resolves once every open connection has closed. */
function closeServer(target: ServerType): Promise<void> {
  return new Promise((resolve) => {
    target.close(() => resolve());
  });
}

/** Reads the sources file once; the ingest does not start with sources it cannot use. */
function createSourceAccessOrExit(): SourceAccess {
  let access: SourceAccess;
  try {
    const sources = loadSourcesFile(config.sourcesFile, [...catalog.types.keys()]);
    access = new SourceAccess({ sources, audiences: config.audiences, logger, retryAfterSeconds: tuning.retryAfterSeconds });
  } catch (error) {
    const problems = (error as { problems?: string[] }).problems;
    logger.fatal({ err: error, sourcesFile: config.sourcesFile, problems }, (error as Error).message);
    process.exit(1);
  }

  if (access.principals.size === 0) {
    logger.warn({ sourcesFile: config.sourcesFile }, `the sources file ${config.sourcesFile} lists no principals, so every request is rejected with 401`);
  }
  return access;
}

function readConfigOrExit(): IngestConfig {
  try {
    return readConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // LOG_LEVEL may be the broken setting, so this line is written at a fixed level.
    const startLogger: Logger = createLogger({ service, level: 'info' });
    startLogger.fatal({ problems: error.problems }, error.message);
    process.exit(1);
  }
}
