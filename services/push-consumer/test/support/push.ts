import { Writable } from 'node:stream';
import {
  DataValidator,
  childTrace,
  createLogger,
  loadCatalog,
  parseStructuredEvent,
  toPubSubMessage,
  type HrCloudEvent,
  type OutgoingMessage,
} from '@hr-events/contract';
import type { StructuredEvent } from '../../../../test/fixtures/events.ts';

// Builders for push requests as Pub/Sub sends them, and a logger whose lines a test can read.

export const catalog = loadCatalog();
export const validator = new DataValidator(catalog);

let messageCounter = 0;

/** Returns a fresh message id, numeric like the ones Pub/Sub assigns. */
export function nextMessageId(): string {
  messageCounter += 1;
  return `${Date.now()}${String(messageCounter).padStart(4, '0')}`;
}

/** Parses a structured event and builds the message the ingest would publish for it. */
export function encodeEvent(input: StructuredEvent): { event: HrCloudEvent; message: OutgoingMessage } {
  const parsed = parseStructuredEvent(input, validator);
  if (parsed.event === undefined) throw new Error(`fixture is invalid: ${JSON.stringify(parsed.problems)}`);
  return { event: parsed.event, message: toPubSubMessage(parsed.event, catalog, childTrace(undefined).traceparent) };
}

export interface WrappedPushOptions {
  messageId?: string;
  deliveryAttempt?: number;
  subscription?: string;
}

/** Builds the JSON body of a wrapped push request for `message`. */
export function wrappedPushBody(message: { data: Buffer; attributes?: Record<string, string> | undefined }, options: WrappedPushOptions = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    message: {
      data: message.data.toString('base64'),
      ...(message.attributes === undefined ? {} : { attributes: message.attributes }),
      messageId: options.messageId ?? nextMessageId(),
      publishTime: new Date().toISOString(),
    },
    subscription: options.subscription ?? 'projects/test/subscriptions/hr-events-onboarding-push',
  };
  if (options.deliveryAttempt !== undefined) body.deliveryAttempt = options.deliveryAttempt;
  return body;
}

export function pushInit(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export type LogLine = Record<string, unknown> & { severity: string; message: string };

/** Creates a logger in the services' format that keeps its lines for assertions. */
export function capturingLogger() {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as LogLine);
      }
      callback();
    },
  });
  return { logger: createLogger({ service: 'push-consumer-test', level: 'debug', destination }), lines };
}
