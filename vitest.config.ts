import { defineConfig } from 'vitest/config';

// Every test runs against loopback only: the Google clients must never look for credentials on a
// metadata server, and the emulators started by the global setup stand in for Pub/Sub and Firestore.
export default defineConfig({
  test: {
    include: ['services/*/src/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    env: {
      METADATA_SERVER_DETECTION: 'none',
      GOOGLE_CLOUD_PROJECT: 'demo-hr-events',
      LOG_LEVEL: 'silent',
    },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
