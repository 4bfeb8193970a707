import type { Message, Subscription } from '@google-cloud/pubsub';

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
