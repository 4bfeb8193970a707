import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import type { Topology } from '@hr-events/contract';
import { provisionTopology } from '../../../../scripts/lib/provision.ts';
import { emulatorEnvironment } from '../../../../test/support/project.ts';
import { PubSubEventPublisher } from '../../src/publisher.ts';

export interface EmulatorPublisher {
  /** A client for provisioning and for reading the subscriptions. */
  admin: PubSub;
  publisher: PubSubEventPublisher;
  close(): Promise<void>;
}

/** Provisions the topology in the project on the emulator and returns the ingest's publisher for its topic. */
export async function startEmulatorPublisher(projectId: string, names: Topology): Promise<EmulatorPublisher> {
  const host = emulatorEnvironment(projectId).PUBSUB_EMULATOR_HOST;
  const admin = new PubSub({ projectId, apiEndpoint: host });
  await provisionTopology({ projectId, topology: names, pushEndpoint: 'http://127.0.0.1:9/pubsub/push', pubsub: admin });
  const publisher = new PubSubEventPublisher({ projectId, topicName: names.topic.name, clientConfig: { apiEndpoint: host } });
  return {
    admin,
    publisher,
    async close() {
      await publisher.close();
      await admin.close();
    },
  };
}

/** Receives `count` messages by streaming pull, acks them, and returns them in arrival order. */
export async function receiveMessages(subscription: Subscription, count: number, timeoutMillis = 15_000): Promise<Message[]> {
  const received: Message[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${received.length} of ${count} messages within ${timeoutMillis} ms`)), timeoutMillis);
      subscription.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      subscription.on('message', (message: Message) => {
        message.ack();
        received.push(message);
        if (received.length === count) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    subscription.removeAllListeners();
    await subscription.close();
  }
  return received;
}
