import { ProblemType, type Catalog, type DataValidator } from '@hr-events/contract';
import { Hono } from 'hono';
import { methodNotAllowed } from 'hono/method-not-allowed';
import type { Logger } from 'pino';
import { BoundedPublisher } from './bounded-publisher.ts';
import type { SourceAccess } from './auth/source-access.ts';
import type { IngestEnv } from './context.ts';
import { defaults, tuning } from './defaults.ts';
import { ingestEvents } from './ingest-route.ts';
import { createProblem, ProblemError, sendProblem } from './problem.ts';
import type { EventPublisher } from './publisher.ts';
import { requestLog } from './request-log.ts';
import type { StatusReader } from './status.ts';
import { eventStatus } from './status-route.ts';

export interface IngestDependencies {
  catalog: Catalog;
  validator: DataValidator;
  publisher: EventPublisher;
  statusReader: StatusReader;
  /** Authentication, policy and rate limits of the sources; every route under /v1/events requires it. */
  sourceAccess: SourceAccess;
  logger: Logger;
  /** Google Cloud project id, for the trace fields of the log lines. */
  projectId: string;
  publishTimeoutMillis?: number;
  maxInflightPublishes?: number;
  retryAfterSeconds?: number;
  statusReadTimeoutMillis?: number;
  /** True once the process has begun to shut down: health turns 503 and connections are closed. */
  isShuttingDown?: () => boolean;
}

const routesSummary = 'POST /v1/events, GET /v1/events/{id} and GET /health';

export function createApp(deps: IngestDependencies): Hono<IngestEnv> {
  const { logger } = deps;
  const retryAfterSeconds = deps.retryAfterSeconds ?? tuning.retryAfterSeconds;
  const isShuttingDown = deps.isShuttingDown ?? (() => false);
  const publisher = new BoundedPublisher(deps.publisher, {
    maxInflightPublishes: deps.maxInflightPublishes ?? defaults.maxInflightPublishes,
    publishTimeoutMillis: deps.publishTimeoutMillis ?? defaults.publishTimeoutMillis,
  });
  const app = new Hono<IngestEnv>();

  app.use(requestLog({ logger, projectId: deps.projectId }));
  app.use(async function closeConnectionsWhileStopping(c, next) {
    await next();
    // Keep-alive clients would otherwise hold the server open past the shutdown deadline.
    if (isShuttingDown()) c.res.headers.set('connection', 'close');
  });
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) => {
        const allow = methods.join(', ');
        const detail = `${c.req.method} is not allowed on ${c.req.path}; use ${allow}.`;
        return sendProblem(c, createProblem(ProblemType.methodNotAllowed, 405, detail), { allow });
      },
    }),
  );

  app.get('/health', (c) => (isShuttingDown() ? c.json({ status: 'shutting-down' }, 503) : c.json({ status: 'ok' })));
  app.post('/v1/events', ingestEvents({ catalog: deps.catalog, validator: deps.validator, publisher, sourceAccess: deps.sourceAccess, logger, retryAfterSeconds }));
  app.get(
    '/v1/events/:id',
    eventStatus({
      statusReader: deps.statusReader,
      sourceAccess: deps.sourceAccess,
      logger,
      retryAfterSeconds,
      readTimeoutMillis: deps.statusReadTimeoutMillis ?? tuning.statusReadTimeoutMillis,
    }),
  );

  app.notFound((c) => {
    const detail = `No route matches ${c.req.method} ${c.req.path}; the ingest serves ${routesSummary}.`;
    return sendProblem(c, createProblem(ProblemType.notFound, 404, detail));
  });
  app.onError((error, c) => {
    if (error instanceof ProblemError) return sendProblem(c, error.problem, error.headers);
    // The client closed the connection before its body was complete. No one reads this response,
    // but the request log shows a client error rather than a fault of the ingest.
    if (c.req.raw.signal.aborted) {
      const detail = 'The connection closed before the whole request body arrived; resend the complete request.';
      return sendProblem(c, createProblem(ProblemType.invalidJson, 400, detail, [{ pointer: '', detail: 'was cut off' }]));
    }
    // The cause goes to the log only; the client learns nothing about the internals.
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'request failed with an unexpected error');
    return sendProblem(c, createProblem(ProblemType.internal, 500, 'The ingest failed unexpectedly; the error was logged. Retry later.'));
  });
  return app;
}
