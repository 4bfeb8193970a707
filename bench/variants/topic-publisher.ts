import { PubSub, type ClientConfig, type Topic } from '@google-cloud/pubsub';
import type { OutgoingMessage } from '@hr-events/contract';
import type { EventPublisher } from '../../services/ingest/src/publisher.ts';

// The ingest's publisher before the benchmark work, kept to measure against in the same run: one
// `Topic.publishMessage()` per message with message ordering on. The client keeps one queue per
// ordering key, so each message, with its own person id, becomes a Publish request of its own.

export { invalidArgumentCode, publishErrorCode } from '../../services/ingest/src/publish-error.ts';
export type { EventPublisher };

export interface PubSubPublisherOptions {
  projectId: string;
  topicName: string;
  clientConfig?: ClientConfig;
}

/** The batching the ingest used: at most 100 messages or 5 ms per ordering key. */
const batching = { maxMessages: 100, maxMilliseconds: 5, maxBytes: 1024 * 1024 };

export class PubSubEventPublisher implements EventPublisher {
  readonly pubsub: PubSub;

  readonly topic: Topic;

  constructor(options: PubSubPublisherOptions) {
    this.pubsub = new PubSub({ ...options.clientConfig, projectId: options.projectId });
    this.topic = this.pubsub.topic(options.topicName, { messageOrdering: true, batching });
  }

  async publish(message: OutgoingMessage): Promise<string> {
    try {
      return await this.topic.publishMessage(message);
    } catch (error) {
      // The client pauses an ordering key after a failed publish; the ingest resumes it at once.
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
