import { traceLogFields } from '@hr-events/contract';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { IngestEnv } from './context.ts';
import { requestTrace } from './trace-context.ts';

export interface RequestLogOptions {
  logger: Logger;
  /** Turns trace ids into the full trace names Cloud Logging links to Cloud Trace. */
  projectId: string;
}

/**
 * Sets the request's trace and writes one log line per request once the response is ready: method,
 * path, status, latency, the fields the route added (ids, never event data) and the trace fields.
 */
export function requestLog(options: RequestLogOptions): MiddlewareHandler<IngestEnv> {
  const { logger, projectId } = options;

  return async function requestLog(c, next) {
    const startedAt = performance.now();
    const trace = requestTrace(c.req.raw.headers);
    c.set('trace', trace);

    await next();

    const status = c.res.status;
    const line = {
      method: c.req.method,
      path: c.req.path,
      status,
      latencyMs: Math.round((performance.now() - startedAt) * 100) / 100,
      ...c.get('logFields'),
      ...traceLogFields(trace, projectId),
    };
    const message = `${c.req.method} ${c.req.path} ${status}`;
    // 503 is the expected response while Pub/Sub is slow or the ingest is saturated. Other 5xx are faults.
    if (status === 503) logger.warn(line, message);
    else if (status >= 500) logger.error(line, message);
    else logger.info(line, message);
  };
}
