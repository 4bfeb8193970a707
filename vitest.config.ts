import { defineConfig } from 'vitest/config';

// Every test runs against loopback only: the Google clients must never look for credentials on a
// metadata server, and the emulators started by the global setup stand in for Pub/Sub and Firestore.
//
// Two projects. `default` contains every test but the fault tests, and uses the emulators that the
// global setup starts. `faults` contains test/faults: each file starts emulators of its own and then
// freezes, kills or overloads parts of the pipeline, so its files run one at a time, after the
// default project has finished, and disturb no other test's timing.
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    env: {
      METADATA_SERVER_DETECTION: 'none',
      GOOGLE_CLOUD_PROJECT: 'demo-hr-events',
      LOG_LEVEL: 'silent',
    },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: ['services/*/src/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/faults/**', '**/node_modules/**'],
          // Not 0: vitest 5 moves the files of a group-0 project that runs one file at a time (as any
          // project does on 2 cores) to a last group of their own, which would run them after the faults.
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 2 },
          testTimeout: 180_000,
        },
      },
    ],
  },
});
