import type { ClientConfig, PubSub, v1 } from '@google-cloud/pubsub';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { topicPath, type OutgoingMessage } from '@hr-events/contract';
import { tuning } from './defaults.ts';
import { PublishBatcher, type PublishBatchingOptions } from './publish-batcher.ts';
import { raceTimeout } from './timeout.ts';

export { invalidArgumentCode, publishErrorCode } from './publish-error.ts';

/** Publishing side of the ingest. The app depends on this interface only, so tests can swap in another implementation. */
export interface EventPublisher {
  /** Publishes one message; resolves with its message id once Pub/Sub has stored it. */
  publish(message: OutgoingMessage): Promise<string>;
  /**
   * Sends every queued message now and resolves once Pub/Sub has confirmed or rejected each of them,
   * or after a bounded wait (`tuning.flushTimeoutMillis` for the Pub/Sub publisher).
   */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface PubSubPublisherOptions {
  projectId: string;
  topicName: string;
  /** Client options such as `apiEndpoint`; PUBSUB_EMULATOR_HOST is honoured when none is given. */
  clientConfig?: ClientConfig;
  batching?: Partial<PublishBatchingOptions>;
}

/**
 * Turns off the generated client's bundling. Its client configuration delays each Publish call by up
 * to 10 ms to bundle it with others, but the batcher has already grouped the messages.
 */
const publishCallOptions = { isBundling: false };

/**
 * Publishes to one topic, batching the messages of concurrent requests across ordering keys (see
 * publish-batcher.ts) while each person's messages keep their order.
 *
 * It calls the Publish method of the generated `v1.PublisherClient` directly. The `Topic` class of
 * the same library batches per ordering key only, and its request path copies and walks every
 * message to replace project id placeholders, which was 7% of the ingest's CPU time under load.
 * The call keeps the library's retry settings for Publish.
 */
export class PubSubEventPublisher implements EventPublisher {
  private readonly clients: Promise<{ pubsub: PubSub; publisher: v1.PublisherClient }>;

  private readonly batcher: PublishBatcher;

  constructor(options: PubSubPublisherOptions) {
    this.clients = loadClients(options);
    // A failure to load surfaces on each publish, as the rejection of that publish.
    this.clients.catch(() => {});
    const topic = topicPath(options.projectId, options.topicName);
    this.batcher = new PublishBatcher((messages) => this.sendPublishRequest(topic, messages), { ...tuning.publishBatching, ...options.batching });
  }

  publish(message: OutgoingMessage): Promise<string> {
    return this.batcher.publish(message);
  }

  async flush(): Promise<void> {
    await raceTimeout(this.batcher.flush(), tuning.flushTimeoutMillis);
  }

  async close(): Promise<void> {
    // A library that failed to load left nothing to close; its error reached every publish.
    const clients = await this.clients.catch(() => undefined);
    if (clients === undefined) return;
    await clients.publisher.close();
    await clients.pubsub.close();
  }

  private async sendPublishRequest(topic: string, messages: OutgoingMessage[]): Promise<string[]> {
    const { publisher } = await this.clients;
    const [response] = await publisher.publish({ topic, messages }, publishCallOptions);
    return response.messageIds ?? [];
  }
}

/**
 * Loads the client library and creates the publisher client with its gRPC stub, so that the first
 * publish does not pay for them. This takes about 250 ms (measured with Node 24 on a 2-core
 * machine), so it starts on the next turn of the event loop. A server that creates the publisher
 * and then listens is therefore listening before the load blocks the thread.
 */
async function loadClients(options: PubSubPublisherOptions): Promise<{ pubsub: PubSub; publisher: v1.PublisherClient }> {
  await nextTurn();
  const { PubSub, v1 } = await import('@google-cloud/pubsub');
  // The PubSub object resolves the emulator host, credentials and endpoint into the client options.
  const pubsub = new PubSub({ ...options.clientConfig, projectId: options.projectId });
  const config = await pubsub.getClientConfig();
  // ClientConfig types `port` as string or number; the PubSub constructor has already parsed it to a number.
  const publisher = new v1.PublisherClient(config as ConstructorParameters<typeof v1.PublisherClient>[0]);
  await publisher.initialize();
  return { pubsub, publisher };
}
