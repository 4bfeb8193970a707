import { setTimeout as sleep } from 'node:timers/promises';
import { engagedEvent, hiredEvent, type StructuredEvent } from '../../fixtures/events.ts';
import { localApiKey } from '../../support/pipeline.ts';

// Sends uniquely identified events to the ingest and keeps what each request got back, so that a
// scenario can reconcile the responses with what the consumers recorded.

/**
 * What a request got back. `accepted`: 202. `rejected`: a 4xx, so nothing may be published.
 * `unavailable`: 503, so the event may have been published. `unanswered`: no response (the
 * connection was refused or reset), so the event may have been published too. `failed`: any other
 * status, which no scenario expects.
 */
export type RequestOutcome = 'accepted' | 'rejected' | 'unavailable' | 'unanswered' | 'failed';

export interface SentEvent {
  event: StructuredEvent;
  outcome: RequestOutcome;
  /** HTTP status, or undefined when no response came. */
  status: number | undefined;
  retryAfter: string | null;
  /** Milliseconds since the epoch at which the request was sent and at which it ended. */
  startedAt: number;
  finishedAt: number;
  error?: string;
}

export interface PostOptions {
  /** Principal of config/local-sources.json whose development key the request carries. */
  principal?: string;
  timeoutMillis?: number;
}

/** The benchmark principal may send both sources and both types, with a rate limit far above any test's load. */
const defaultPrincipal = 'benchmark';
const defaultTimeoutMillis = 30_000;

export class IngestClient {
  readonly url: string;
  /** Every request sent, in the order the requests ended. */
  readonly sent: SentEvent[] = [];

  constructor(url: string) {
    this.url = url;
  }

  /** Posts one event in structured mode and records the outcome; never throws. */
  async post(event: StructuredEvent, options: PostOptions = {}): Promise<SentEvent> {
    const startedAt = Date.now();
    let record: SentEvent;
    try {
      const response = await fetch(`${this.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', 'x-api-key': localApiKey(options.principal ?? defaultPrincipal) },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(options.timeoutMillis ?? defaultTimeoutMillis),
      });
      await response.arrayBuffer();
      record = { event, outcome: outcomeOf(response.status), status: response.status, retryAfter: response.headers.get('retry-after'), startedAt, finishedAt: Date.now() };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      record = { event, outcome: 'unanswered', status: undefined, retryAfter: null, startedAt, finishedAt: Date.now(), error: cause ?? (error as Error).name };
    }
    this.sent.push(record);
    return record;
  }

  /** Posts events `concurrency` at a time and returns their records in the order of `events`. */
  async postAll(events: StructuredEvent[], concurrency = 8, options: PostOptions = {}): Promise<SentEvent[]> {
    const records: SentEvent[] = new Array(events.length);
    let next = 0;
    const lane = async () => {
      while (next < events.length) {
        const index = next;
        next += 1;
        records[index] = await this.post(events[index]!, options);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, events.length) }, lane));
    return records;
  }
}

function outcomeOf(status: number): RequestOutcome {
  if (status === 202) return 'accepted';
  if (status === 503) return 'unavailable';
  if (status >= 400 && status < 500) return 'rejected';
  return 'failed';
}

/** Returns a valid event of either type, alternating, each with a fresh id and person. */
export function validEvent(index: number): StructuredEvent {
  return index % 2 === 0 ? hiredEvent() : engagedEvent();
}

/**
 * Returns events that the ingest must reject, one per kind: data that breaks the schema (400), an
 * unknown type (400), and a source that the sending principal may not use (403, sent as hr-system).
 */
export function hostileEvents(): Array<{ event: StructuredEvent; principal: string }> {
  return [
    { event: hiredEvent({}, { workEmail: 'not-an-email' }), principal: defaultPrincipal },
    { event: hiredEvent({ type: 'hr.employee.fired' }), principal: defaultPrincipal },
    { event: engagedEvent(), principal: 'hr-system' },
  ];
}

/** Sends the hostile events and returns their records. */
export async function sendHostileEvents(client: IngestClient): Promise<SentEvent[]> {
  return Promise.all(hostileEvents().map(({ event, principal }) => client.post(event, { principal })));
}

export interface LoadOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /** Upper bound of requests over the whole load, so that a load always ends. */
  maxRequests: number;
  /** Pause of each lane between two requests. */
  pauseMillis?: number;
  /** A lane ends after this many requests in a row got no response (the ingest has gone away). */
  maxConsecutiveUnanswered?: number;
}

export interface Load {
  /** Stops sending and resolves with every record once the requests in flight have ended. */
  stop(): Promise<SentEvent[]>;
  /** Resolves when every lane has ended by itself (max requests, or the ingest gone). */
  finished: Promise<SentEvent[]>;
  readonly count: number;
}

/** Starts lanes that post valid events until stopped, bounded by `maxRequests`. */
export function startLoad(client: IngestClient, options: LoadOptions): Load {
  const records: SentEvent[] = [];
  let isStopped = false;
  let issued = 0;

  const lane = async () => {
    let unansweredInARow = 0;
    while (!isStopped && issued < options.maxRequests && unansweredInARow < (options.maxConsecutiveUnanswered ?? 3)) {
      const index = issued;
      issued += 1;
      const record = await client.post(validEvent(index));
      records.push(record);
      unansweredInARow = record.outcome === 'unanswered' ? unansweredInARow + 1 : 0;
      if (options.pauseMillis !== undefined) await sleep(options.pauseMillis);
    }
  };
  const finished = Promise.all(Array.from({ length: options.concurrency }, lane)).then(() => records);

  return {
    async stop() {
      isStopped = true;
      return finished;
    },
    finished,
    get count() {
      return records.length;
    },
  };
}
