import type { TraceContext } from '@hr-events/contract';
import type { Context } from 'hono';

/** Per-request values shared between the middleware and the routes. */
export interface IngestEnv {
  Variables: {
    trace: TraceContext;
    /** Extra fields for the request's log line: event ids and sources, message ids, problem type. */
    logFields: Record<string, unknown> | undefined;
  };
}

export type IngestContext = Context<IngestEnv>;

export function addLogFields(c: IngestContext, fields: Record<string, unknown>): void {
  c.set('logFields', { ...c.get('logFields'), ...fields });
}
