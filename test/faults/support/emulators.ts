import { startFirestoreEmulator, startPubSubEmulator, type Emulator } from '../../../scripts/lib/emulators.ts';

// Each fault test file starts a Pub/Sub and a Firestore emulator of its own, because it freezes or
// overloads them, and the emulators of the global setup serve the other test files.

export interface FaultEmulators {
  pubsub: Emulator;
  firestore: Emulator;
  stop(): Promise<void>;
}

/**
 * Starts both emulators and aims this test process at them: the Google clients that the test file
 * creates read PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST. Each test file runs in a process
 * of its own (the forks pool), so the change stays in this file.
 */
export async function startFaultEmulators(): Promise<FaultEmulators> {
  const [pubsub, firestore] = await Promise.all([startPubSubEmulator(), startFirestoreEmulator()]);
  process.env.PUBSUB_EMULATOR_HOST = pubsub.host;
  process.env.FIRESTORE_EMULATOR_HOST = firestore.host;
  return {
    pubsub,
    firestore,
    async stop() {
      await Promise.all([pubsub.stop(), firestore.stop()]);
    },
  };
}
