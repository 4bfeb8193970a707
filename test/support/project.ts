import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

// Each test file works in a project id of its own on the shared emulators, so files never see each
// other's topics, subscriptions or documents.

export function uniqueProjectId(label: string): string {
  return `test-${label}-${randomBytes(4).toString('hex')}`.toLowerCase().slice(0, 30);
}

/** Environment for a Google client or a service process aimed at the test emulators. */
export function emulatorEnvironment(projectId: string): Record<string, string> {
  return {
    PUBSUB_EMULATOR_HOST: inject('pubsubEmulatorHost'),
    FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
    GOOGLE_CLOUD_PROJECT: projectId,
    METADATA_SERVER_DETECTION: 'none',
  };
}
