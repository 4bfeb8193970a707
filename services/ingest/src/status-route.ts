import { ProblemType, maxIdLength, type EventReceipt } from '@hr-events/contract';
import type { Handler } from 'hono';
import type { Logger } from 'pino';
import { forbiddenRead } from './auth/access-problems.ts';
import type { SourceAccess } from './auth/source-access.ts';
import { addLogFields, type IngestEnv } from './context.ts';
import { createProblem, secondsText, sendProblem } from './problem.ts';
import { consumerView, type ConsumerView, type StatusReader } from './status.ts';
import { raceTimeout, timedOut } from './timeout.ts';

export interface StatusRouteOptions {
  statusReader: StatusReader;
  sourceAccess: SourceAccess;
  logger: Logger;
  readTimeoutMillis: number;
  retryAfterSeconds: number;
}

interface EventStatus {
  id: string;
  source: string;
  consumers: ConsumerView;
}

/**
 * GET /v1/events/{id}?source=: what each consumer recorded for the event. The publish path writes
 * nothing, so an event is unknown here until the first consumer has processed it. A caller sees
 * only the events of the sources it may send; the events of other sources do not exist for it.
 */
export function eventStatus(options: StatusRouteOptions): Handler<IngestEnv> {
  const { statusReader, sourceAccess, logger, readTimeoutMillis, retryAfterSeconds } = options;

  return async function eventStatus(c) {
    const principal = await sourceAccess.admit(c);
    const id = c.req.param('id') as string;
    const source = c.req.query('source') || undefined;
    addLogFields(c, { eventId: id, eventSource: source });
    if (source !== undefined && !sourceAccess.mayRead(principal, source)) throw forbiddenRead(principal, source);

    let receipts: EventReceipt[] = [];
    // An id longer than the ingest accepts was never published, so there is nothing to look up.
    if (id.length <= maxIdLength) {
      try {
        const found = await raceTimeout(statusReader.findReceipts(id, source), readTimeoutMillis);
        if (found === timedOut) throw new Error(`Firestore did not respond within ${readTimeoutMillis} ms`);
        receipts = found;
      } catch (error) {
        logger.error({ err: error, eventId: id, eventSource: source }, 'reading the event status from Firestore failed');
        const detail = `The status of event "${id}" cannot be read right now; retry after ${secondsText(retryAfterSeconds)}.`;
        return sendProblem(c, createProblem(ProblemType.storeUnavailable, 503, detail), { 'retry-after': String(retryAfterSeconds) });
      }
    }

    const recorded: EventStatus[] = [];
    for (const receipt of receipts) {
      if (!sourceAccess.mayRead(principal, receipt.source)) continue;
      const consumers = consumerView(receipt);
      if (Object.keys(consumers).length > 0) recorded.push({ id: receipt.id, source: receipt.source, consumers });
    }
    if (recorded.length === 0) {
      const eventDescription = source === undefined ? `"${id}"` : `"${id}" from source "${source}"`;
      const detail =
        `No consumer has recorded event ${eventDescription} yet. That is normal for a few seconds after the 202, because consumers ` +
        'record an event only once they have processed it; retry later, and check the id and source if it stays missing.';
      return sendProblem(c, createProblem(ProblemType.notFound, 404, detail));
    }

    const sources = [...new Set(recorded.map((status) => status.source))].sort();
    if (sources.length > 1) {
      const detail = `Event id "${id}" was recorded for ${sources.length} sources (${sources.join(', ')}); add ?source= with one of them.`;
      return sendProblem(c, { ...createProblem(ProblemType.ambiguousEventId, 409, detail), sources });
    }
    return c.json(recorded[0] as EventStatus);
  };
}
