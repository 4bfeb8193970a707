import { Duration, SubscriptionCloseBehaviors, type Message, type PubSub, type Subscription, type SubscriptionOptions } from '@google-cloud/pubsub';
import type { Logger } from 'pino';
import type { MessageHandler } from './handler.ts';
import { OrderingKeyQueue } from './ordering-key-queue.ts';
import { OutstandingLimit } from './outstanding-limit.ts';

// The subscription's lifecycle: open a streaming pull with flow control, hand each message to the
// handler, re-open after the stream fails, and close on shutdown without losing an ack.

export const subscriberDefaults = {
  // Pub/Sub's lowest ack deadline. Within these bounds, the client sets the deadline it requests to
  // the 99th percentile of the time to ack, and extends leases while work runs.
  minAckDeadlineSeconds: 10,
  maxAckDeadlineSeconds: 60,
  // A message still unfinished after this long is released for redelivery instead of being held.
  maxExtensionMinutes: 10,
  // Cloud Run sends SIGKILL 10 s after SIGTERM. The client waits for processing until 1 s before
  // this timeout, then nacks what is left and flushes. The rest of the 10 s is for closing the clients.
  closeTimeoutMillis: 6_000,
  reopenInitialBackoffMillis: 1_000,
  reopenMaxBackoffMillis: 30_000,
  // A re-opened stream counts as working after this long without an error, or at its first message.
  confirmOpenAfterMillis: 5_000,
} as const;

const grpcNotFound = 5;
const grpcPermissionDenied = 7;

/**
 * `starting`: not open yet since the start, retries after failed opens included. `open`: the
 * stream has delivered a message or stayed up for `confirmOpenAfterMillis`. `reopening`: the
 * stream failed after being open, and is closing, waiting or opening again. `stopping` and
 * `stopped`: shutdown has begun or ended.
 */
export type WorkerState = 'starting' | 'open' | 'reopening' | 'stopping' | 'stopped';

export interface WorkerStatus {
  state: WorkerState;
  /** Milliseconds since the epoch at which the worker entered this state. */
  since: number;
}

export interface PullWorkerOptions {
  pubsub: PubSub;
  /** Subscription name (not the full path). */
  subscriptionName: string;
  handleMessage: MessageHandler;
  logger: Logger;
  maxOutstandingMessages: number;
  maxOutstandingBytes: number;
  closeTimeoutMillis?: number;
  reopenInitialBackoffMillis?: number;
  reopenMaxBackoffMillis?: number;
  confirmOpenAfterMillis?: number;
}

export class PullWorker {
  readonly #options: PullWorkerOptions;
  readonly #logger: Logger;
  readonly #closeTimeoutMillis: number;
  readonly #queue = new OrderingKeyQueue();
  readonly #limit: OutstandingLimit;
  readonly #inFlight = new Set<Promise<unknown>>();

  #status: WorkerStatus = { state: 'starting', since: Date.now() };
  #subscription: Subscription | undefined;
  /** Resolves once the current subscription has emitted 'close'. */
  #closed: Promise<void> = Promise.resolve();
  #recovering: Subscription | undefined;
  #backoffMillis: number;
  #reopenTimer: NodeJS.Timeout | undefined;
  #confirmTimer: NodeJS.Timeout | undefined;
  #wakeFromBackoff: (() => void) | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: PullWorkerOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#closeTimeoutMillis = options.closeTimeoutMillis ?? subscriberDefaults.closeTimeoutMillis;
    this.#backoffMillis = this.#initialBackoffMillis;
    this.#limit = new OutstandingLimit(options.maxOutstandingMessages, options.maxOutstandingBytes);
  }

  status(): WorkerStatus {
    return { ...this.#status };
  }

  /** Number of messages handed to the handler and not yet acked or nacked. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  start(): void {
    this.#logger.info(
      {
        subscription: this.#options.subscriptionName,
        maxOutstandingMessages: this.#options.maxOutstandingMessages,
        maxOutstandingBytes: this.#options.maxOutstandingBytes,
      },
      'pull worker starting',
    );
    this.#open();
  }

  /**
   * Stops pulling, lets the messages in flight finish within the close timeout, then nacks what
   * is left (the client library does that) and flushes acks. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const startedAt = Date.now();
    const inFlightAtStop = this.#inFlight.size;
    this.#setState('stopping');
    clearTimeout(this.#reopenTimer);
    clearTimeout(this.#confirmTimer);
    this.#wakeFromBackoff?.();
    this.#logger.info({ subscription: this.#options.subscriptionName, inFlight: inFlightAtStop, closeTimeoutMillis: this.#closeTimeoutMillis }, 'pull worker stopping: closing the subscription');

    // close() stops the stream at once, then waits for the messages in flight (WaitForProcessing).
    // A subscription that is already closing after a stream error only needs that close awaited.
    await this.#subscription?.close().catch((error: unknown) => this.#logger.warn({ err: error }, 'closing the subscription failed'));
    await withTimeout(this.#closed, this.#closeTimeoutMillis);

    const unfinished = this.#inFlight.size;
    this.#setState('stopped');
    this.#logger.info(
      { subscription: this.#options.subscriptionName, inFlightAtStop, unfinished, durationMillis: Date.now() - startedAt },
      unfinished === 0 ? 'pull worker stopped; every message in flight was acked or nacked' : 'pull worker stopped; unfinished messages were nacked for redelivery',
    );
  }

  #open(): void {
    const subscription = this.#options.pubsub.subscription(this.#options.subscriptionName, this.#subscriberOptions());
    this.#subscription = subscription;
    this.#closed = new Promise((resolve) => subscription.once('close', () => resolve()));

    subscription.on('error', (error: Error) => this.#onError(subscription, error));
    subscription.on('close', () => this.#onClose(subscription));
    // The client retries a stream that ends with a retryable status by itself, and reports it here.
    subscription.on('debug', (debug: { message: string }) => this.#logger.debug({ subscription: this.#options.subscriptionName }, debug.message));
    // Adding the first 'message' listener opens the streaming pull.
    subscription.on('message', (message: Message) => this.#dispatch(subscription, message));

    // Leave starting or reopening only when the stream proves to work: a missing subscription
    // fails the stream right after it opens.
    this.#confirmTimer = setTimeout(() => this.#confirmOpen(subscription), this.#options.confirmOpenAfterMillis ?? subscriberDefaults.confirmOpenAfterMillis);
    this.#logger.info({ subscription: this.#options.subscriptionName }, 'subscription opening');
  }

  #subscriberOptions(): SubscriptionOptions {
    return {
      flowControl: {
        maxMessages: this.#options.maxOutstandingMessages,
        maxBytes: this.#options.maxOutstandingBytes,
        // The client pauses the stream while these limits are reached and sends them to the
        // server, which stops delivering until messages are acked. Excess messages of one response
        // still reach #dispatch, where they wait in OutstandingLimit (its header gives the reason).
        allowExcessMessages: true,
      },
      // The client sends the flow control limits with each stream it opens (five by default), so
      // with one stream they are the limits of the whole worker.
      streamingOptions: { maxStreams: 1 },
      minAckDeadline: Duration.from({ seconds: subscriberDefaults.minAckDeadlineSeconds }),
      maxAckDeadline: Duration.from({ seconds: subscriberDefaults.maxAckDeadlineSeconds }),
      maxExtensionTime: Duration.from({ minutes: subscriberDefaults.maxExtensionMinutes }),
      closeOptions: {
        behavior: SubscriptionCloseBehaviors.WaitForProcessing,
        timeout: Duration.from({ milliseconds: this.#closeTimeoutMillis }),
      },
    };
  }

  #dispatch(subscription: Subscription, message: Message): void {
    if (subscription === this.#subscription) this.#confirmOpen(subscription);

    const task = this.#queue.run(message.orderingKey, () => this.#limit.run(message.data.length, () => this.#options.handleMessage(message)));
    this.#inFlight.add(task);
    task
      .catch((error: unknown) => {
        // The handler acks or nacks and logs on every path, so this runs only if it has a bug.
        message.nack();
        this.#logger.error({ messageId: message.id, err: error }, 'message handler failed unexpectedly; message nacked');
      })
      .finally(() => this.#inFlight.delete(task));
  }

  #confirmOpen(subscription: Subscription): void {
    clearTimeout(this.#confirmTimer);
    if (subscription !== this.#subscription || this.#recovering === subscription) return;
    if (this.#status.state !== 'starting' && this.#status.state !== 'reopening') return;
    this.#backoffMillis = this.#initialBackoffMillis;
    this.#setState('open');
    this.#logger.info({ subscription: this.#options.subscriptionName }, 'subscription open and receiving');
  }

  #onError(subscription: Subscription, error: Error): void {
    const code = (error as { code?: unknown }).code;
    const fields = { subscription: this.#options.subscriptionName, errorCode: code, err: error };
    if (subscription !== this.#subscription || this.#stopping !== undefined) {
      this.#logger.debug(fields, 'error from a subscription that is already closing; ignored');
      return;
    }

    if (code === grpcNotFound) {
      this.#logger.error(fields, `subscription ${this.#options.subscriptionName} not found; create it (Pulumi program or provisioning script) or fix SUBSCRIPTION; retrying`);
    } else if (code === grpcPermissionDenied) {
      this.#logger.error(fields, 'permission denied on the subscription; grant the service account roles/pubsub.subscriber on it; retrying');
    } else {
      this.#logger.warn(fields, 'streaming pull ended with an error; re-opening the subscription');
    }
    void this.#recover(subscription);
  }

  #onClose(subscription: Subscription): void {
    if (subscription !== this.#subscription || this.#recovering === subscription || this.#stopping !== undefined) return;
    this.#logger.warn({ subscription: this.#options.subscriptionName }, 'subscription closed unexpectedly; re-opening it');
    void this.#recover(subscription);
  }

  /** Closes the failed subscription (its messages in flight finish first), waits, then opens a new one. */
  async #recover(subscription: Subscription): Promise<void> {
    if (this.#recovering === subscription) return;
    this.#recovering = subscription;
    clearTimeout(this.#confirmTimer);
    if (this.#status.state === 'open') this.#setState('reopening');

    // The 'error' listener stays attached, because an emitter without one throws on a late error.
    await subscription.close().catch((error: unknown) => this.#logger.warn({ err: error }, 'closing the failed subscription failed'));
    await withTimeout(this.#closed, this.#closeTimeoutMillis);
    subscription.removeAllListeners('message');

    const delayMillis = this.#backoffMillis;
    this.#backoffMillis = Math.min(delayMillis * 2, this.#options.reopenMaxBackoffMillis ?? subscriberDefaults.reopenMaxBackoffMillis);
    if (this.#stopping !== undefined) return;
    this.#logger.info({ subscription: this.#options.subscriptionName, delayMillis }, 'subscription re-opening after backoff');
    await new Promise<void>((resolve) => {
      this.#wakeFromBackoff = resolve;
      this.#reopenTimer = setTimeout(resolve, delayMillis);
    });

    this.#recovering = undefined;
    if (this.#stopping !== undefined) return;
    this.#open();
  }

  get #initialBackoffMillis(): number {
    return this.#options.reopenInitialBackoffMillis ?? subscriberDefaults.reopenInitialBackoffMillis;
  }

  #setState(state: WorkerState): void {
    this.#status = { state, since: Date.now() };
  }
}

async function withTimeout(promise: Promise<void>, timeoutMillis: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMillis);
  });
  await Promise.race([promise, timeout]);
  clearTimeout(timer);
}
