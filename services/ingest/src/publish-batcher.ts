import type { OutgoingMessage } from '@hr-events/contract';
import { invalidArgumentCode, publishErrorCode } from './publish-error.ts';

// Groups the messages of concurrent requests into shared Publish requests, across ordering keys.
//
// The Pub/Sub client library keeps one queue per ordering key, so with one person id per request
// every message becomes a Publish request of its own. The Publish API itself takes messages with
// different ordering keys in one request and keeps the order of each key within it. So this batcher
// sends everything that is waiting in one request, with two rules:
// - Order per key: a key is in at most one Publish request at a time, so a later message of a key
//   waits until the request carrying the earlier one has completed.
// - Batching by concurrency, not by a timer: at most `maxConcurrentRequests` requests are in flight.
//   At low load a message leaves on the next turn of the event loop. Under load, the messages that
//   arrive while every slot is busy leave together when a slot frees.

export interface PublishBatchingOptions {
  /** Pub/Sub accepts at most 1,000 messages per Publish request. */
  maxMessagesPerRequest: number;
  /** Pub/Sub accepts at most 10 MB per Publish request; the estimate below leaves room for framing. */
  maxBytesPerRequest: number;
  maxConcurrentRequests: number;
}

/** Sends one Publish request and resolves with the message ids, in the order of `messages`. */
export type SendPublishRequest = (messages: OutgoingMessage[]) => Promise<string[]>;

/** A message that was not sent because an earlier message with its ordering key failed. */
export class OrderingKeyFailedError extends Error {
  override readonly name = 'OrderingKeyFailedError';

  readonly orderingKey: string;

  constructor(orderingKey: string, cause: unknown) {
    super('Not published: an earlier message with the same ordering key failed, and sending this one first would break the order of the key.', { cause });
    this.orderingKey = orderingKey;
  }
}

interface QueuedMessage {
  message: OutgoingMessage;
  bytes: number;
  resolve: (messageId: string) => void;
  reject: (error: unknown) => void;
}

export class PublishBatcher {
  private readonly send: SendPublishRequest;

  private readonly options: PublishBatchingOptions;

  private queue: QueuedMessage[] = [];

  /** Ordering keys of the messages in the Publish requests in flight. */
  private readonly keysInFlight = new Set<string>();

  private requestsInFlight = 0;

  private isDispatchScheduled = false;

  private idleWaiters: (() => void)[] = [];

  constructor(send: SendPublishRequest, options: PublishBatchingOptions) {
    if (options.maxMessagesPerRequest < 1 || options.maxConcurrentRequests < 1 || options.maxBytesPerRequest < 1) {
      throw new RangeError(`Publish batching limits must be at least 1, found ${JSON.stringify(options)}.`);
    }
    this.send = send;
    this.options = options;
  }

  /** Queues the message; resolves with its message id once Pub/Sub has stored it. */
  publish(message: OutgoingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, bytes: estimateBytes(message), resolve, reject });
      this.scheduleDispatch();
    });
  }

  /** Sends what is queued at once and resolves when no message is queued or in flight. */
  async flush(): Promise<void> {
    this.dispatch();
    if (this.isIdle()) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.requestsInFlight === 0;
  }

  /**
   * Dispatches after the current turn of the event loop, so that every request whose message was
   * queued in this turn shares one Publish request.
   */
  private scheduleDispatch(): void {
    if (this.isDispatchScheduled) return;
    this.isDispatchScheduled = true;
    setImmediate(() => {
      this.isDispatchScheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.requestsInFlight < this.options.maxConcurrentRequests && this.queue.length > 0) {
      const batch = this.takeBatch();
      // Every queued message waits for a key that is in flight.
      if (batch.length === 0) break;
      void this.sendBatch(batch);
    }
    if (this.isIdle()) this.notifyIdle();
  }

  /** Takes the oldest messages that may be sent now, within the request limits, keeping each key's order. */
  private takeBatch(): QueuedMessage[] {
    const { maxMessagesPerRequest, maxBytesPerRequest } = this.options;
    const batch: QueuedMessage[] = [];
    const remaining: QueuedMessage[] = [];
    // Keys with a message left behind in this pass: their later messages must stay behind too.
    const heldKeys = new Set<string>();
    let bytes = 0;

    for (const entry of this.queue) {
      const key = entry.message.orderingKey;
      const isHeld = key !== '' && (this.keysInFlight.has(key) || heldKeys.has(key));
      const fits = batch.length < maxMessagesPerRequest && (batch.length === 0 || bytes + entry.bytes <= maxBytesPerRequest);
      if (isHeld || !fits) {
        remaining.push(entry);
        if (key !== '') heldKeys.add(key);
        continue;
      }
      batch.push(entry);
      bytes += entry.bytes;
    }

    for (const entry of batch) if (entry.message.orderingKey !== '') this.keysInFlight.add(entry.message.orderingKey);
    this.queue = remaining;
    return batch;
  }

  private async sendBatch(batch: QueuedMessage[]): Promise<void> {
    this.requestsInFlight += 1;
    let outcome: { messageIds: string[] } | { error: unknown };
    try {
      outcome = { messageIds: await this.sendChecked(batch) };
    } catch (error) {
      outcome = { error };
    }

    // Pub/Sub rejects a whole request when one message breaks the topic schema. The batch contains
    // messages of unrelated requests, so it is resent one message per request, keeping its keys and
    // its slot, and only the message at fault fails.
    if ('error' in outcome && batch.length > 1 && publishErrorCode(outcome.error) === invalidArgumentCode) {
      await this.publishOneByOne(batch);
      this.release(batch);
      return;
    }

    // The keys are released before the messages are settled, so a caller that sees its message
    // confirmed can publish the next message of the same key at once.
    this.release(batch);
    if ('error' in outcome) {
      for (const entry of batch) entry.reject(outcome.error);
      this.rejectQueuedWithKeys(new Map(batch.map((entry) => [entry.message.orderingKey, outcome.error])));
    } else {
      const { messageIds } = outcome;
      batch.forEach((entry, index) => entry.resolve(messageIds[index] as string));
    }
  }

  private release(batch: QueuedMessage[]): void {
    for (const entry of batch) this.keysInFlight.delete(entry.message.orderingKey);
    this.requestsInFlight -= 1;
    this.scheduleDispatch();
  }

  private async publishOneByOne(batch: QueuedMessage[]): Promise<void> {
    const failedKeys = new Map<string, unknown>();
    for (const entry of batch) {
      const key = entry.message.orderingKey;
      if (failedKeys.has(key)) {
        entry.reject(new OrderingKeyFailedError(key, failedKeys.get(key)));
        continue;
      }
      try {
        const [messageId] = await this.sendChecked([entry]);
        entry.resolve(messageId as string);
      } catch (error) {
        entry.reject(error);
        failedKeys.set(key, error);
      }
    }
    this.rejectQueuedWithKeys(failedKeys);
  }

  /** Sends one request; rejects when the send fails, throws, or returns the wrong number of ids. */
  private async sendChecked(batch: QueuedMessage[]): Promise<string[]> {
    const messageIds = await this.send(batch.map((entry) => entry.message));
    if (messageIds.length !== batch.length) {
      throw new Error(`Pub/Sub returned ${messageIds.length} message ids for a Publish request of ${batch.length} messages.`);
    }
    return messageIds;
  }

  /**
   * Rejects the queued messages whose key failed. Sending them would put them on the topic before
   * the failed messages, which their clients will resend. Later messages of the key are sent as usual.
   */
  private rejectQueuedWithKeys(failedKeys: Map<string, unknown>): void {
    failedKeys.delete('');
    if (failedKeys.size === 0) return;
    this.queue = this.queue.filter((entry) => {
      const key = entry.message.orderingKey;
      if (!failedKeys.has(key)) return true;
      entry.reject(new OrderingKeyFailedError(key, failedKeys.get(key)));
      return false;
    });
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * Size of the message in a Publish request: data, ordering key, attributes, and a few bytes of
 * protocol buffer framing per field.
 */
function estimateBytes(message: OutgoingMessage): number {
  let bytes = message.data.byteLength + Buffer.byteLength(message.orderingKey) + 16;
  for (const name in message.attributes) bytes += Buffer.byteLength(name) + Buffer.byteLength(message.attributes[name] as string) + 8;
  return bytes;
}

