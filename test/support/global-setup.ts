import type { TestProject } from 'vitest/node';
import { buildServices } from '../../scripts/lib/build.ts';
import { startFirestoreEmulator, startPubSubEmulator, type Emulator } from '../../scripts/lib/emulators.ts';

// Builds dist/ and starts one Pub/Sub and one Firestore emulator for the whole run, on free loopback ports. Test
// files isolate themselves by project id (see test/support/project.ts) rather than by emulator,
// because both emulators serve any number of projects.

declare module 'vitest' {
  export interface ProvidedContext {
    pubsubEmulatorHost: string;
    firestoreEmulatorHost: string;
  }
}

let emulators: Emulator[] = [];

export async function setup(project: TestProject): Promise<void> {
  // Tests that run the services as processes use dist/, so it must match the sources under test.
  const [, ...started] = await Promise.all([buildServices(), startPubSubEmulator(), startFirestoreEmulator()]);
  emulators = started;
  const [pubsub, firestore] = emulators as [Emulator, Emulator];
  process.env.PUBSUB_EMULATOR_HOST = pubsub.host;
  process.env.FIRESTORE_EMULATOR_HOST = firestore.host;
  project.provide('pubsubEmulatorHost', pubsub.host);
  project.provide('firestoreEmulatorHost', firestore.host);
}

export async function teardown(): Promise<void> {
  await Promise.all(emulators.map((emulator) => emulator.stop()));
}
