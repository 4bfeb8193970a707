import { Encodings, PubSub, SchemaTypes } from '@google-cloud/pubsub';
import { avroSchemaFor, loadCatalog, schemaPath, topology, type Topology } from '@hr-events/contract';
import { startFirestoreEmulator, startPubSubEmulator, type Emulator } from '../scripts/lib/emulators.ts';
import { provisionTopology } from '../scripts/lib/provision.ts';
import { onCleanUp } from './cleanup.ts';

// The emulators the benchmark runs against, and the Pub/Sub resources of each figure. Each figure
// uses a project of its own, so the backlog of one never reaches another's consumers.

export interface Emulators {
  pubsubHost: string;
  firestoreHost: string;
  pubsub: Emulator;
  firestore: Emulator;
}

export const names: Topology = topology();

/** Starts both emulators on free loopback ports; clean-up stops them by process group. */
export async function startEmulators(): Promise<Emulators> {
  const [pubsub, firestore] = await Promise.all([startTracked(startPubSubEmulator), startTracked(startFirestoreEmulator)]);
  return { pubsubHost: pubsub.host, firestoreHost: firestore.host, pubsub, firestore };
}

async function startTracked(start: () => Promise<Emulator>): Promise<Emulator> {
  const emulator = await start();
  onCleanUp(() => emulator.stop());
  return emulator;
}

/** Environment for a service or client aimed at the emulators, in project `projectId`. */
export function emulatorEnvironment(emulators: Emulators, projectId: string): Record<string, string> {
  return {
    GOOGLE_CLOUD_PROJECT: projectId,
    PUBSUB_EMULATOR_HOST: emulators.pubsubHost,
    FIRESTORE_EMULATOR_HOST: emulators.firestoreHost,
    METADATA_SERVER_DETECTION: 'none',
  };
}

/**
 * Creates the schema and the HR topic without subscriptions. The throughput and cold-start figures
 * publish here: the emulator then keeps no messages, so its memory does not grow run after run.
 */
export async function provisionTopicOnly(emulators: Emulators, projectId: string): Promise<void> {
  const pubsub = new PubSub({ projectId, apiEndpoint: emulators.pubsubHost });
  try {
    await ignoreExisting(pubsub.createSchema(names.schemaName, SchemaTypes.Avro, avroSchemaFor(loadCatalog())));
    await ignoreExisting(pubsub.createTopic({ name: names.topic.name, schemaSettings: { schema: schemaPath(projectId, names.schemaName), encoding: Encodings.Json } }));
  } finally {
    await pubsub.close();
  }
}

/** gRPC status of a create call for a resource that exists already. */
const alreadyExistsCode = 6;

async function ignoreExisting(creation: Promise<unknown>): Promise<void> {
  try {
    await creation;
  } catch (error) {
    if ((error as { code?: unknown }).code !== alreadyExistsCode) throw error;
  }
}

/** Creates the whole topology, with the push subscription aimed at `pushEndpoint`. */
export async function provisionPipeline(emulators: Emulators, projectId: string, pushEndpoint: string): Promise<void> {
  const pubsub = new PubSub({ projectId, apiEndpoint: emulators.pubsubHost });
  try {
    await provisionTopology({ projectId, topology: names, pushEndpoint, pubsub });
  } finally {
    await pubsub.close();
  }
}
