import { v1, type protos, type PubSub, type Topic } from '@google-cloud/pubsub';
import { subscriptionPath } from '@hr-events/contract';
import type { DeadLetterMessage } from './dead-letter-check.ts';
import { replayAttributes } from './dead-letter-check.ts';

// The dead-letter subscription as the dead-letter tool uses it: pull every message without acking
// it, then ack the ones replayed or dropped and release the rest at once, so they stay on the
// subscription for the next look. Unary pull is used rather than streaming pull, because the tool
// needs to know when it has seen the whole backlog.

export interface PulledDeadLetter extends DeadLetterMessage {
  ackId: string;
}

export interface DeadLetterQueueOptions {
  pubsub: PubSub;
  projectId: string;
  /** Name of the pull subscription on the dead-letter topic. */
  subscriptionName: string;
  /** Name of the HR topic that replayed messages go back to. */
  topicName: string;
}

const maxMessagesPerPull = 1000;
// Pub/Sub may return no messages from a pull while some remain, so the backlog counts as seen only
// after several empty pulls in a row.
const emptyPullsToStop = 3;
/** Upper bound of messages held at once, so that a huge backlog cannot exhaust memory. */
const maxMessagesHeld = 10_000;

export class DeadLetterQueue {
  private readonly options: DeadLetterQueueOptions;
  private subscriber: v1.SubscriberClient | undefined;
  private topic: Topic | undefined;

  constructor(options: DeadLetterQueueOptions) {
    this.options = options;
  }

  private get subscription(): string {
    return subscriptionPath(this.options.projectId, this.options.subscriptionName);
  }

  /**
   * Pulls the whole backlog (up to 10,000 messages) and keeps it leased until `ack` or `release`.
   * The lease lasts the subscription's ack deadline (60 s in the topology); a message leased longer
   * is delivered again, and appears once in the result, with its newest ack id.
   */
  async pullAll(): Promise<PulledDeadLetter[]> {
    const subscriber = await this.getSubscriber();
    const byMessageId = new Map<string, PulledDeadLetter>();
    let emptyPulls = 0;
    while (emptyPulls < emptyPullsToStop && byMessageId.size < maxMessagesHeld) {
      // NOTE: returnImmediately is deprecated on Pub/Sub, which may then return no messages more
      // often; the loop above tolerates that, and without it an empty subscription keeps each pull open.
      const [response] = await subscriber.pull({ subscription: this.subscription, maxMessages: maxMessagesPerPull, returnImmediately: true });
      const received = response.receivedMessages ?? [];
      emptyPulls = received.length === 0 ? emptyPulls + 1 : 0;
      for (const entry of received) {
        const message = toDeadLetter(entry);
        if (message !== undefined) byMessageId.set(message.messageId, message);
      }
    }
    return [...byMessageId.values()].sort((left, right) => left.publishTime.localeCompare(right.publishTime) || left.messageId.localeCompare(right.messageId));
  }

  /** Removes the messages from the subscription. */
  async ack(messages: PulledDeadLetter[]): Promise<void> {
    if (messages.length === 0) return;
    const subscriber = await this.getSubscriber();
    await subscriber.acknowledge({ subscription: this.subscription, ackIds: messages.map((message) => message.ackId) });
  }

  /** Gives the messages back to the subscription at once (ack deadline 0), so they stay on it. */
  async release(messages: PulledDeadLetter[]): Promise<void> {
    if (messages.length === 0) return;
    const subscriber = await this.getSubscriber();
    await subscriber.modifyAckDeadline({ subscription: this.subscription, ackIds: messages.map((message) => message.ackId), ackDeadlineSeconds: 0 });
  }

  /**
   * Publishes the message to the HR topic with its own attributes and ordering key, and resolves
   * with the new message id once Pub/Sub has confirmed it.
   */
  async republish(message: DeadLetterMessage): Promise<string> {
    this.topic ??= this.options.pubsub.topic(this.options.topicName, { messageOrdering: true });
    const outgoing = { data: message.data, attributes: replayAttributes(message.attributes), ...(message.orderingKey === '' ? {} : { orderingKey: message.orderingKey }) };
    try {
      return await this.topic.publishMessage(outgoing);
    } catch (error) {
      // A failed publish pauses its ordering key in the client; resume it so that the next message
      // with the same key is not rejected for this one.
      if (message.orderingKey !== '') this.topic.resumePublishing(message.orderingKey);
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.subscriber?.close(), this.topic?.flush()]);
  }

  private async getSubscriber(): Promise<v1.SubscriberClient> {
    // The PubSub client's configuration carries the project, the endpoint and, for the emulator, plain-text credentials.
    if (this.subscriber === undefined) {
      const config = await this.options.pubsub.getClientConfig();
      this.subscriber = new v1.SubscriberClient({ ...config, port: config.port === undefined ? undefined : Number(config.port) });
    }
    return this.subscriber;
  }
}

function toDeadLetter(entry: protos.google.pubsub.v1.IReceivedMessage): PulledDeadLetter | undefined {
  const message = entry.message;
  if (entry.ackId == null || message?.messageId == null) return undefined;
  const seconds = Number(message.publishTime?.seconds ?? 0);
  const nanos = Number(message.publishTime?.nanos ?? 0);
  return {
    ackId: entry.ackId,
    messageId: message.messageId,
    data: Buffer.from(message.data ?? new Uint8Array()),
    attributes: { ...(message.attributes ?? {}) },
    orderingKey: message.orderingKey ?? '',
    publishTime: new Date(seconds * 1000 + Math.floor(nanos / 1e6)).toISOString(),
  };
}
