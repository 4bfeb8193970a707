import { pino } from 'pino';

/** Returns pino's asynchronous stdout stream, the ingest's log destination before the benchmark work. */
export function logDestination(): pino.DestinationStream {
  return pino.destination({ fd: 1, sync: false });
}
