import { pino } from 'pino';

/**
 * Returns the stream for the ingest's log lines: standard output, written synchronously. Pino's
 * default stdout stream buffers lines while an earlier write is pending, and under load those lines
 * outlived young-generation collections and were promoted, which raised the GC work and the peak
 * RSS (see BENCHMARKS.md). Written synchronously, a full stdout pipe slows the ingest down instead
 * of growing its memory.
 */
export function logDestination(): pino.DestinationStream {
  return pino.destination({ fd: 1, sync: true });
}
