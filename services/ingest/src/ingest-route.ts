import { ProblemType, principalAttribute, toPubSubMessage, type Catalog, type DataValidator, type HrCloudEvent } from '@hr-events/contract';
import type { Handler } from 'hono';
import type { Logger } from 'pino';
import type { SourceAccess } from './auth/source-access.ts';
import { readJsonBody } from './body.ts';
import type { BoundedPublisher, PublishOutcome } from './bounded-publisher.ts';
import { addLogFields, type IngestContext, type IngestEnv } from './context.ts';
import { parseEvents } from './events.ts';
import { eventModeOf } from './media-type.ts';
import { createProblem, ProblemError, secondsText, sendProblem } from './problem.ts';
import { invalidArgumentCode, publishErrorCode } from './publisher.ts';

export interface IngestRouteOptions {
  catalog: Catalog;
  validator: DataValidator;
  publisher: BoundedPublisher;
  sourceAccess: SourceAccess;
  logger: Logger;
  retryAfterSeconds: number;
}

/**
 * POST /v1/events: authenticates the caller, validates one event (structured or binary mode) or a
 * batch, checks it against the caller's policy and rate limit, publishes it, and responds with 202
 * only after Pub/Sub has confirmed every message.
 *
 * A batch is all or nothing at validation: one invalid event rejects the batch with 400 and nothing
 * is published. Publishing is not atomic, though. When Pub/Sub fails or times out part-way through a
 * batch, some events may already be on the topic, and the response is still 503 with Retry-After. The
 * client then resends the whole batch, and the consumers drop the events they have already seen,
 * because they deduplicate by (source, id). Likewise, a single event whose publish timed out may
 * still reach the topic later. So 503 means "not confirmed", not "not published".
 */
export function ingestEvents(options: IngestRouteOptions): Handler<IngestEnv> {
  const { catalog, validator, publisher, sourceAccess } = options;

  return async function ingestEvents(c) {
    // Credentials are in the headers, so a caller without valid ones is rejected before its body is read.
    const principal = await sourceAccess.admit(c);

    const request = c.req.raw;
    rejectContentEncoding(request.headers.get('content-encoding'));
    const contentType = request.headers.get('content-type') ?? undefined;
    const mode = eventModeOf(contentType, request.headers.has('ce-specversion'));
    const body = await readJsonBody(request);
    const events = parseEvents({ mode, body, headers: request.headers, contentType: contentType ?? '', receivedAt: new Date() }, validator);
    addLogFields(c, eventLogFields(events, mode === 'batch'));
    sourceAccess.admitEvents(c, principal, events, mode);

    const traceparent = c.get('trace').traceparent;
    const messages = events.map((event) => toPubSubMessage(event, catalog, traceparent));
    // The principal travels with the message, so a replay of the message can check the same policy again.
    for (const message of messages) message.attributes[principalAttribute] = principal.name;
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

/**
 * Rejects a compressed body with 415. The ingest reads the body as sent, so without this check a
 * compressed body would be rejected as invalid JSON, which points the client at the wrong fix.
 */
function rejectContentEncoding(encoding: string | null): void {
  if (encoding === null || encoding.trim() === '' || encoding.trim().toLowerCase() === 'identity') return;
  const detail = `Content-Encoding "${encoding}" is not supported; send the body uncompressed, without a Content-Encoding header.`;
  throw new ProblemError(createProblem(ProblemType.unsupportedMediaType, 415, detail, [{ pointer: '/headers/content-encoding', detail: 'must be absent or identity' }]));
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
      `so nothing was published; retry after ${secondsText(retryAfterSeconds)}.`;
    return sendProblem(c, createProblem(ProblemType.publishUnavailable, 503, detail), retry);
  }
  if (outcome.status === 'timed-out') {
    const detail = `Pub/Sub did not confirm ${eventsText} within ${publisher.limits.publishTimeoutMillis} ms; retry after ${secondsText(retryAfterSeconds)}. ${duplicates}`;
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
  const detail = `Publishing ${eventsText} to Pub/Sub failed; retry after ${secondsText(retryAfterSeconds)}. ${duplicates}`;
  return sendProblem(c, createProblem(ProblemType.publishUnavailable, 503, detail), retry);
}
