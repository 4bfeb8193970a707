import { PubSub, type ClientConfig, type PublishOptions, type Topic } from '@google-cloud/pubsub';
import type { OutgoingMessage } from '@hr-events/contract';
import { tuning } from './defaults.ts';

/** Publishing side of the ingest. The app depends on this interface only, so tests can swap in another implementation. */
export interface EventPublisher {
  /** Publishes one message; resolves with its message id once Pub/Sub has stored it. */
  publish(message: OutgoingMessage): Promise<string>;
  /** Sends every queued message now and resolves once Pub/Sub has confirmed or rejected each of them. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface PubSubPublisherOptions {
  projectId: string;
  topicName: string;
  /** Client options such as `apiEndpoint`; PUBSUB_EMULATOR_HOST is honoured when none is given. */
  clientConfig?: ClientConfig;
  batching?: PublishOptions['batching'];
}

/** gRPC status the Pub/Sub client reports when the request itself is wrong, for example data that breaks the topic schema. */
export const invalidArgumentCode = 3;

/** Publishes to one topic with message ordering, so one person's events reach the consumers in order. */
export class PubSubEventPublisher implements EventPublisher {
  readonly pubsub: PubSub;

  readonly topic: Topic;

  constructor(options: PubSubPublisherOptions) {
    this.pubsub = new PubSub({ ...options.clientConfig, projectId: options.projectId });
    this.topic = this.pubsub.topic(options.topicName, { messageOrdering: true, batching: options.batching ?? tuning.batching });
  }

  async publish(message: OutgoingMessage): Promise<string> {
    try {
      return await this.topic.publishMessage(message);
    } catch (error) {
      // After a failed publish the client pauses the ordering key and rejects every later message
      // with that key. The caller responds with 503 and its client retries, so the key must work again.
      this.topic.resumePublishing(message.orderingKey);
      throw error;
    }
  }

  async flush(): Promise<void> {
    await this.topic.flush();
  }

  async close(): Promise<void> {
    await this.pubsub.close();
  }
}

/** Returns the gRPC status code of a publish error, when it has one. */
export function publishErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
