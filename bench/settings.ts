// Settings of each figure of `npm run bench`, for the full run and for the quick run. The quick run
// only checks that the script still works. It runs every figure for about two seconds with less
// load, so its numbers are not comparable with the full run's.

export type BenchMode = 'full' | 'quick';

export interface SpikePhase {
  connections: number;
  seconds: number;
}

export interface BenchSettings {
  mode: BenchMode;
  throughput: {
    connectionCounts: number[];
    /** Load before the first measurement of each server, so the JIT has compiled the hot path. */
    warmupSeconds: number;
    seconds: number;
    /** Times every measurement is repeated; the one least disturbed by other work on the machine is kept. */
    rounds: number;
    /** The builds of the ingest measured beside it (see throughput.ts); all of them when unset. */
    variants?: string[];
  };
  halfRate: { seconds: number; warmupSeconds: number; maxConnections: number };
  coldStart: { starts: number };
  endToEnd: {
    ratePerSecond: number;
    seconds: number;
    /** Events sent and recorded before the measurement, so the consumers' first connections are not counted. */
    warmupSeconds: number;
    maxConnections: number;
  };
  spike: {
    phases: SpikePhase[];
    /**
     * Events each client sends per second; every client waits for its response before the next. Below
     * 1 / seconds each client sends once, at the start of its phase, so a phase opens with all of
     * its clients sending at the same moment.
     */
    requestsPerClientPerSecond: number;
    /** Maximum wait for the consumers to record every accepted event after the load. */
    drainTimeoutSeconds: number;
  };
  /** A request without a response after this many seconds counts as a timeout. */
  requestTimeoutSeconds: number;
}

const full: BenchSettings = {
  mode: 'full',
  throughput: { connectionCounts: [50, 256], warmupSeconds: 3, seconds: 8, rounds: 2 },
  halfRate: { seconds: 10, warmupSeconds: 3, maxConnections: 256 },
  coldStart: { starts: 10 },
  // The push path drained 18 to 40 events/s in earlier runs (the emulator pushes two at a time), so
  // 10 events/s keeps it below saturation; 102 s gives more than 1,000 events.
  endToEnd: { ratePerSecond: 10, seconds: 102, warmupSeconds: 3, maxConnections: 64 },
  spike: {
    phases: [
      { connections: 100, seconds: 10 },
      { connections: 4_000, seconds: 10 },
      { connections: 100, seconds: 10 },
    ],
    requestsPerClientPerSecond: 0.1,
    drainTimeoutSeconds: 900,
  },
  requestTimeoutSeconds: 30,
};

const quick: BenchSettings = {
  mode: 'quick',
  throughput: { connectionCounts: [50, 256], warmupSeconds: 0.5, seconds: 2, rounds: 1, variants: ['ingest-before'] },
  halfRate: { seconds: 2, warmupSeconds: 0.5, maxConnections: 64 },
  coldStart: { starts: 2 },
  endToEnd: { ratePerSecond: 10, seconds: 2, warmupSeconds: 1, maxConnections: 16 },
  spike: {
    phases: [
      { connections: 50, seconds: 1 },
      { connections: 200, seconds: 1 },
      { connections: 50, seconds: 1 },
    ],
    requestsPerClientPerSecond: 1,
    drainTimeoutSeconds: 120,
  },
  requestTimeoutSeconds: 30,
};

export function settingsFor(mode: BenchMode): BenchSettings {
  return mode === 'quick' ? quick : full;
}
