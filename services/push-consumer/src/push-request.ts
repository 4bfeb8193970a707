// Reads one Pub/Sub push request in either of its two forms.
//
// Wrapped (the default): a JSON body {"message": {...}, "subscription": "...", "deliveryAttempt": n}
// whose message contains base64 `data`, optional `attributes`, `messageId` and `publishTime` (Pub/Sub
// also sends the `message_id` and `publish_time` spellings) and an optional `orderingKey`.
// `deliveryAttempt` sits beside `message`, and only when the subscription has a dead-letter policy.
//
// Unwrapped (`pushConfig.noWrapper` with `writeMetadata`, described in
// https://cloud.google.com/pubsub/docs/payload-unwrapping): the body is the message data itself.
// The API reference of PushConfig.NoWrapper.write_metadata states that Pub/Sub writes the message metadata
// to x-goog-pubsub-<KEY> headers and each attribute to a header of its own name, so the metadata
// arrives as x-goog-pubsub-subscription-name, x-goog-pubsub-message-id, x-goog-pubsub-publish-time
// and x-goog-pubsub-ordering-key.

export interface PushedMessage {
  data: Buffer;
  /** Absent when the message was published without attributes. */
  attributes: Record<string, string> | undefined;
  messageId: string;
  publishTime: string | undefined;
  orderingKey: string | undefined;
}

export interface PushRequest {
  format: 'wrapped' | 'unwrapped';
  message: PushedMessage;
  /** Full subscription name, such as projects/p/subscriptions/s. */
  subscription: string | undefined;
  /** Present only when the subscription has a dead-letter policy; the emulator never sends it. */
  deliveryAttempt: number | undefined;
}

export type PushRequestParseResult = { request: PushRequest; problem?: undefined } | { request?: undefined; problem: string };

export const unwrappedHeaders = {
  subscription: 'x-goog-pubsub-subscription-name',
  messageId: 'x-goog-pubsub-message-id',
  publishTime: 'x-goog-pubsub-publish-time',
  orderingKey: 'x-goog-pubsub-ordering-key',
  // NOTE: the payload-unwrapping page lists no delivery-attempt header. This name follows the
  // x-goog-pubsub-<KEY> rule, so it is read when present and the attempt is unknown otherwise.
  deliveryAttempt: 'x-goog-pubsub-delivery-attempt',
} as const;

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

/** Parses a push request; returns a problem sentence when the request is not one. */
export function parsePushRequest(headers: Headers, body: Uint8Array): PushRequestParseResult {
  const envelope = parseJsonObject(body);
  if (envelope !== undefined && 'message' in envelope) return parseWrapped(envelope);
  if (headers.has(unwrappedHeaders.messageId)) return parseUnwrapped(headers, body);
  return {
    problem:
      'the body is not a Pub/Sub push request: expected a JSON object with a "message" member (wrapped push), ' +
      `or the message data with an ${unwrappedHeaders.messageId} header (unwrapped push with write metadata)`,
  };
}

function parseWrapped(envelope: Record<string, unknown>): PushRequestParseResult {
  const message = envelope.message;
  if (!isPlainObject(message)) return { problem: '"message" must be a JSON object holding the Pub/Sub message' };

  const messageId = message.messageId ?? message.message_id;
  if (typeof messageId !== 'string' || messageId === '') return { problem: '"message.messageId" is missing or not a non-empty string' };

  const data = message.data === undefined || message.data === null ? Buffer.alloc(0) : decodeBase64(message.data);
  if (data === undefined) return { problem: '"message.data" must be a base64 string' };

  const attributes = readAttributes(message.attributes);
  if (attributes === false) return { problem: '"message.attributes" must be an object whose values are strings' };

  const publishTime = optionalString(message.publishTime ?? message.publish_time);
  const orderingKey = optionalString(message.orderingKey);
  const subscription = optionalString(envelope.subscription);
  if (publishTime === false) return { problem: '"message.publishTime" must be a string' };
  if (orderingKey === false) return { problem: '"message.orderingKey" must be a string' };
  if (subscription === false) return { problem: '"subscription" must be a string' };

  const deliveryAttempt = readDeliveryAttempt(envelope.deliveryAttempt);
  if (deliveryAttempt === false) return { problem: '"deliveryAttempt" must be a whole number from 1' };

  return {
    request: {
      format: 'wrapped',
      message: { data, attributes, messageId, publishTime, orderingKey },
      subscription,
      deliveryAttempt,
    },
  };
}

function parseUnwrapped(headers: Headers, body: Uint8Array): PushRequestParseResult {
  const deliveryAttempt = readDeliveryAttempt(headers.get(unwrappedHeaders.deliveryAttempt) ?? undefined);
  if (deliveryAttempt === false) return { problem: `the ${unwrappedHeaders.deliveryAttempt} header must be a whole number from 1` };

  // Attribute headers cannot be distinguished from the transport's own (authorization, host,
  // user-agent...), so only the attributes this pipeline publishes are taken: the CloudEvents
  // ce-* attributes and the W3C trace context.
  const attributes: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name.startsWith('ce-') || name === 'traceparent' || name === 'tracestate') attributes[name] = decodeHeaderValue(value);
  }

  return {
    request: {
      format: 'unwrapped',
      message: {
        data: Buffer.from(body),
        attributes: Object.keys(attributes).length > 0 ? attributes : undefined,
        messageId: headers.get(unwrappedHeaders.messageId) as string,
        publishTime: headers.get(unwrappedHeaders.publishTime) ?? undefined,
        orderingKey: headers.get(unwrappedHeaders.orderingKey) ?? undefined,
      },
      subscription: headers.get(unwrappedHeaders.subscription) ?? undefined,
      deliveryAttempt,
    },
  };
}

function parseJsonObject(body: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodeBase64(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !base64Pattern.test(value) || value.length % 4 === 1) return undefined;
  return Buffer.from(value, 'base64');
}

/** Returns the attributes, undefined when absent, or false when they are not a string map. */
function readAttributes(value: unknown): Record<string, string> | undefined | false {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) return false;
  const attributes: Record<string, string> = {};
  for (const [name, attribute] of Object.entries(value)) {
    if (typeof attribute !== 'string') return false;
    attributes[name] = attribute;
  }
  return attributes;
}

function optionalString(value: unknown): string | undefined | false {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : false;
}

/** Protobuf's JSON mapping writes int32 as a number but also accepts a decimal string. */
function readDeliveryAttempt(value: unknown): number | undefined | false {
  if (value === undefined || value === null) return undefined;
  const attempt = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof attempt === 'number' && Number.isSafeInteger(attempt) && attempt >= 1 ? attempt : false;
}

/**
 * Decodes a header value as UTF-8. Node exposes each header byte as one Latin-1 character, but
 * attribute values are UTF-8. A value whose bytes are not valid UTF-8 is kept as received.
 */
function decodeHeaderValue(value: string): string {
  const decoded = Buffer.from(value, 'latin1').toString('utf8');
  return decoded.includes('\uFFFD') ? value : decoded;
}
