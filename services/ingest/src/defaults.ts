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
   * once, so memory stays bounded while Pub/Sub is slow or unreachable. The bound fits a full batch
   * of 100 events from each of the 80 concurrent requests that Cloud Run sends one instance by
   * default (infra/settings.ts). With 2,000, a burst got 503 while Pub/Sub was healthy: 1,471 of
   * 4,000 simultaneous requests in the benchmark's spike (BENCHMARKS.md).
   */
  maxInflightPublishes: 8_000,
  logLevel: 'info',
} as const;

export const tuning = {
  /**
   * Publish requests (see publish-batcher.ts). Messages leave on the next turn of the event loop
   * while a request slot is free, and under load they wait for a slot and leave together. Pub/Sub
   * accepts at most 1,000 messages and 10 MB per request. The byte limit leaves room for framing
   * and is the 9 MiB that the client library (@google-cloud/pubsub 5) uses too.
   */
  publishBatching: { maxMessagesPerRequest: 1_000, maxBytesPerRequest: 9 * 1024 * 1024, maxConcurrentRequests: 4 },
  /**
   * How long shutdown waits for Publish requests still in flight. By then every HTTP request has its
   * response, so these messages belong to requests that got a 503, and their clients resend them.
   * The wait only spares them the resend. The client retries an unavailable Publish for up to 600 s,
   * far beyond Cloud Run's 10 s between SIGTERM and SIGKILL, so the wait is bounded.
   */
  flushTimeoutMillis: 2_000,
  /** Sent in `Retry-After` with every 503. */
  retryAfterSeconds: 5,
  /** Firestore reads of the status endpoint give up after this. */
  statusReadTimeoutMillis: 5_000,
  /** Cloud Run sends SIGKILL 10 s after SIGTERM; the service exits on its own before that. */
  shutdownDeadlineMillis: 9_000,
} as const;
