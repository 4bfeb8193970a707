import { ProblemType, toPubSubMessage, type Catalog, type DataValidator, type HrCloudEvent } from '@hr-events/contract';
import type { Handler } from 'hono';
import type { Logger } from 'pino';
import { readJsonBody } from './body.ts';
import type { BoundedPublisher, PublishOutcome } from './bounded-publisher.ts';
import { addLogFields, type IngestContext, type IngestEnv } from './context.ts';
import { parseEvents } from './events.ts';
import { eventModeOf } from './media-type.ts';
import { createProblem, sendProblem } from './problem.ts';
import { invalidArgumentCode, publishErrorCode } from './publisher.ts';

export interface IngestRouteOptions {
  catalog: Catalog;
  validator: DataValidator;
  publisher: BoundedPublisher;
  logger: Logger;
  retryAfterSeconds: number;
}

/**
 * POST /v1/events: validates one event (structured or binary mode) or a batch, publishes it, and
 * responds with 202 only after Pub/Sub has confirmed every message.
 *
 * A batch is all or nothing at validation: one invalid event rejects the batch with 400 and nothing
 * is published. Publishing is not atomic, though. When Pub/Sub fails or times out part-way through a
 * batch, some events may already be on the topic, and the response is still 503 with Retry-After. The
 * client then resends the whole batch, and the consumers drop the events they have already seen,
 * because they deduplicate by (source, id). Likewise, a single event whose publish timed out may
 * still reach the topic later. So 503 means "not confirmed", not "not published".
 */
export function ingestEvents(options: IngestRouteOptions): Handler<IngestEnv> {
  const { catalog, validator, publisher } = options;

  return async function ingestEvents(c) {
    const request = c.req.raw;
    const contentType = request.headers.get('content-type') ?? undefined;
    const mode = eventModeOf(contentType, request.headers.has('ce-specversion'));
    const body = await readJsonBody(request);
    const events = parseEvents({ mode, body, headers: request.headers, contentType: contentType ?? '', receivedAt: new Date() }, validator);
    addLogFields(c, eventLogFields(events, mode === 'batch'));

    const traceparent = c.get('trace').traceparent;
    const messages = events.map((event) => toPubSubMessage(event, catalog, traceparent));
    const outcome = await publisher.publishAll(messages);
    if (outcome.status !== 'published') return publishProblem(c, outcome, events, options);

    if (mode === 'batch') {
      return c.json({ accepted: events.map((event) => ({ id: event.id, source: event.source })) }, 202);
    }
    const event = events[0] as HrCloudEvent;
    addLogFields(c, { messageId: outcome.messageIds[0] });
    return c.json({ id: event.id, source: event.source }, 202, { location: `/v1/events/${encodeURIComponent(event.id)}` });
  };
}

function eventLogFields(events: HrCloudEvent[], isBatch: boolean): Record<string, unknown> {
  if (isBatch) return { eventCount: events.length };
  const event = events[0] as HrCloudEvent;
  return { eventId: event.id, eventSource: event.source, eventType: event.type };
}

function publishProblem(c: IngestContext, outcome: Exclude<PublishOutcome, { status: 'published' }>, events: HrCloudEvent[], options: IngestRouteOptions): Response {
  const { logger, publisher, retryAfterSeconds } = options;
  const retry = { 'retry-after': String(retryAfterSeconds) };
  const eventsText = events.length === 1 ? 'the event' : `the ${events.length} events`;
  const duplicates = 'Consumers ignore an event they have already processed, so resending is safe.';
  addLogFields(c, { publishOutcome: outcome.status });

  if (outcome.status === 'overloaded') {
    const detail =
      `The ingest has ${publisher.inFlight} messages waiting for Pub/Sub and holds at most ${publisher.limits.maxInflightPublishes}, ` +
      `so nothing was published; retry after ${retryAfterSeconds} seconds.`;
    return sendProblem(c, createProblem(ProblemType.publishUnavailable, 503, detail), retry);
  }
  if (outcome.status === 'timed-out') {
    const detail = `Pub/Sub did not confirm ${eventsText} within ${publisher.limits.publishTimeoutMillis} ms; retry after ${retryAfterSeconds} seconds. ${duplicates}`;
    return sendProblem(c, createProblem(ProblemType.publishUnavailable, 503, detail), retry);
  }

  const code = publishErrorCode(outcome.error);
  const ids = events.map((event) => event.id);
  logger.error({ err: outcome.error, code, eventIds: ids, eventCount: events.length }, `publish failed with gRPC code ${code ?? 'none'}`);
  // The topic schema rejecting an event that passed the edge validation means the schemas drifted
  // apart: retrying cannot help, so this is a server fault rather than an outage.
  if (code === invalidArgumentCode) {
    return sendProblem(c, createProblem(ProblemType.internal, 500, 'The ingest could not publish the event because of an internal error; it was logged. Do not retry unchanged.'));
  }
  const detail = `Publishing ${eventsText} to Pub/Sub failed; retry after ${retryAfterSeconds} seconds. ${duplicates}`;
  return sendProblem(c, createProblem(ProblemType.publishUnavailable, 503, detail), retry);
}
