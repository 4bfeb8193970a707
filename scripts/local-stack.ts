import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { topology } from '@hr-events/contract';
import { startFirestoreEmulator, startPubSubEmulator, freePort, type Emulator } from './lib/emulators.ts';
import { MissingToolError } from './lib/sdk.ts';
import { provisionTopology } from './lib/provision.ts';
import { startService, type ServiceProcess } from './lib/processes.ts';

// `npm start`: the whole pipeline on this machine. Starts the Pub/Sub and Firestore emulators (or
// uses the ones named by PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST), creates the schema,
// topics and subscriptions from the shared topology, starts the three services from dist/ and
// prints one "ready" line. Ctrl-C or SIGTERM stops everything, emulator JVMs included.

/** A setting or precondition of the local stack that the user must fix; printed without a stack trace. */
class SettingError extends Error {}

const emulators: Emulator[] = [];
const services: ServiceProcess[] = [];
let stopping = false;

process.on('SIGINT', () => void shutDown(0));
process.on('SIGTERM', () => void shutDown(0));

try {
  await main();
} catch (error) {
  console.error(error instanceof MissingToolError || error instanceof SettingError ? error.message : error);
  await shutDown(1);
}

async function main(): Promise<void> {
  if (Number(process.versions.node.split('.')[0]) < 24) {
    throw new SettingError(`hr-events needs Node.js 24 or newer, found ${process.version}. Install Node.js 24 LTS and run npm start again.`);
  }
  const projectId = process.env.GOOGLE_CLOUD_PROJECT ?? 'demo-hr-events';
  const ingestPort = parsePort('PORT', 8080);
  const pullWorkerCount = parseCount('PULL_WORKERS', 1);
  for (const service of ['ingest', 'push-consumer', 'pull-worker']) {
    if (!existsSync(`dist/${service}/server.mjs`)) throw new SettingError(`dist/${service}/server.mjs is missing; run npm run build first (npm start does).`);
  }
  // The committed development sources: the demo's sources with their local keys.
  const sourcesFile = resolve(process.env.SOURCES_FILE ?? 'config/local-sources.json');
  if (!existsSync(sourcesFile)) throw new SettingError(`The sources file ${sourcesFile} does not exist; unset SOURCES_FILE to use config/local-sources.json.`);
  await assertPortFree(ingestPort);

  const pubsubHost = process.env.PUBSUB_EMULATOR_HOST ?? (await startEmulator(startPubSubEmulator)).host;
  const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST ?? (await startEmulator(startFirestoreEmulator)).host;
  process.env.PUBSUB_EMULATOR_HOST = pubsubHost;
  process.env.FIRESTORE_EMULATOR_HOST = firestoreHost;
  process.env.METADATA_SERVER_DETECTION = 'none';

  const names = topology();
  const pushPort = await freePort();
  await provisionTopology({ projectId, topology: names, pushEndpoint: `http://127.0.0.1:${pushPort}${names.subscriptions.onboarding.pushPath}` });

  const common = {
    GOOGLE_CLOUD_PROJECT: projectId,
    PUBSUB_EMULATOR_HOST: pubsubHost,
    FIRESTORE_EMULATOR_HOST: firestoreHost,
    METADATA_SERVER_DETECTION: 'none',
  };
  const watch = (service: ServiceProcess) => {
    services.push(service);
    void service.exited.then((code) => {
      if (!stopping) {
        console.error(`${service.name} exited unexpectedly with ${code}; stopping the local stack.`);
        void shutDown(1);
      }
    });
  };

  // The emulator sends no OIDC token, so the push consumer runs with verification off here.
  watch(await startService({ name: 'push-consumer', entry: 'dist/push-consumer/server.mjs', port: pushPort, env: { ...common, PUSH_AUTHENTICATION: 'disabled' } }));
  for (let index = 0; index < pullWorkerCount; index += 1) {
    const name = pullWorkerCount === 1 ? 'pull-worker' : `pull-worker-${index + 1}`;
    watch(await startService({ name, entry: 'dist/pull-worker/server.mjs', port: await freePort(), env: { ...common, SUBSCRIPTION: names.subscriptions.directory.name } }));
  }
  const ingestUrl = `http://127.0.0.1:${ingestPort}`;
  const ingestEnv = { ...common, TOPIC: names.topic.name, SOURCES_FILE: sourcesFile, INGEST_AUDIENCE: ingestUrl };
  watch(await startService({ name: 'ingest', entry: 'dist/ingest/server.mjs', port: ingestPort, env: ingestEnv }));

  console.log(
    `hr-events ready: ingest ${ingestUrl} (POST /v1/events, sources and their development keys in ${sourcesFile}), push consumer http://127.0.0.1:${pushPort}, ` +
      `${pullWorkerCount} pull worker(s), Pub/Sub emulator ${pubsubHost}, Firestore emulator ${firestoreHost}, project ${projectId}. ` +
      `Try \`${ingestPort === 8080 ? '' : `INGEST_URL=${ingestUrl} `}npm run demo\` in another terminal; Ctrl-C stops everything.`,
  );
  console.log(
    `Dead letters of this stack: PUBSUB_EMULATOR_HOST=${pubsubHost} GOOGLE_CLOUD_PROJECT=${projectId} SOURCES_FILE=${sourcesFile} npm run dead-letters -- list`,
  );
}

async function startEmulator(start: (options: { onOutput?: (line: string) => void }) => Promise<Emulator>): Promise<Emulator> {
  const emulator = await start({});
  emulators.push(emulator);
  return emulator;
}

async function shutDown(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Services first, so that nothing is mid-write when the emulators go away.
  await Promise.all(services.map((service) => service.stop()));
  await Promise.all(emulators.map((emulator) => emulator.stop()));
  process.exit(exitCode);
}

function parsePort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SettingError(`${name}=${raw} is not a TCP port; set it to a number from 1 to 65535, or unset it to use ${fallback}.`);
  }
  return port;
}

function parseCount(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1 || count > 16) {
    throw new SettingError(`${name}=${raw} is invalid; set it to a whole number from 1 to 16.`);
  }
  return count;
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', () => reject(new SettingError(`Port ${port} on 127.0.0.1 is in use; stop what uses it or start with PORT=<another port> npm start.`)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}
