// Every default of the ingest service, in one place. The environment overrides the first group
// (see config.ts); the rest are tuning knobs that a benchmark may change here.

export const defaults = {
  port: 8080,
  /** Loopback by default so a local run is not exposed; containers set HOST=0.0.0.0. */
  host: '127.0.0.1',
  firestoreDatabase: '(default)',
  /**
   * How long a request waits for Pub/Sub to confirm its publish before the response is 503. It stays
   * well under Cloud Run's request timeout (300 s by default) and under the shutdown deadline, so a
   * request that is in flight at SIGTERM still gets its response.
   */
  publishTimeoutMillis: 8_000,
  /**
   * Messages handed to the Pub/Sub client and not yet confirmed. Past this, requests get 503 at
   * once, so memory stays bounded while Pub/Sub is slow or unreachable.
   */
  maxInflightPublishes: 2_000,
  logLevel: 'info',
} as const;

export const tuning = {
  /**
   * Batching of the Pub/Sub client. With message ordering the client keeps one queue per ordering
   * key (person id), so a batch only groups messages of the same person. The short delay keeps the
   * latency of a single event low.
   */
  batching: { maxMessages: 100, maxMilliseconds: 5, maxBytes: 1024 * 1024 },
  /** Sent in `Retry-After` with every 503. */
  retryAfterSeconds: 5,
  /** Firestore reads of the status endpoint give up after this. */
  statusReadTimeoutMillis: 5_000,
  /** Cloud Run sends SIGKILL 10 s after SIGTERM; the service exits on its own before that. */
  shutdownDeadlineMillis: 9_000,
} as const;
