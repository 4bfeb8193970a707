import type { OutgoingMessage } from '@hr-events/contract';
import type { EventPublisher } from './publisher.ts';
import { raceTimeout, timedOut } from './timeout.ts';

// Bounds what the ingest hands to Pub/Sub: how many messages may wait for confirmation at once, and
// how long a request waits for its own. Both keep a stalled Pub/Sub from holding requests and
// memory without limit.

export type PublishOutcome =
  | { status: 'published'; messageIds: string[] }
  /** More messages are waiting than `maxInflightPublishes` allows; nothing was handed over. */
  | { status: 'overloaded' }
  /** No confirmation within `publishTimeoutMillis`; the messages may still be published later. */
  | { status: 'timed-out' }
  /** At least one publish failed; with several messages, others may have been published. */
  | { status: 'failed'; error: unknown };

export interface PublishLimits {
  maxInflightPublishes: number;
  publishTimeoutMillis: number;
}

export class BoundedPublisher {
  readonly limits: PublishLimits;

  private readonly publisher: EventPublisher;

  private inFlightCount = 0;

  constructor(publisher: EventPublisher, limits: PublishLimits) {
    this.publisher = publisher;
    this.limits = limits;
  }

  /** Messages handed to the publisher and not yet confirmed or failed. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Publishes every message and returns `published` only when Pub/Sub has confirmed all of them. */
  async publishAll(messages: OutgoingMessage[]): Promise<PublishOutcome> {
    const count = messages.length;
    if (this.inFlightCount + count > this.limits.maxInflightPublishes) return { status: 'overloaded' };

    this.inFlightCount += count;
    const publishes = messages.map((message) => this.publishOne(message));
    // The slots are freed when the client has settled every message, even after this request has
    // timed out, because until then the messages stay in the client's memory.
    void Promise.allSettled(publishes).then(() => {
      this.inFlightCount -= count;
    });

    try {
      const result = await raceTimeout(Promise.all(publishes), this.limits.publishTimeoutMillis);
      if (result === timedOut) return { status: 'timed-out' };
      return { status: 'published', messageIds: result };
    } catch (error) {
      return { status: 'failed', error };
    }
  }

  /** Turns a publisher that throws instead of rejecting into a rejection, so its slot is freed. */
  private async publishOne(message: OutgoingMessage): Promise<string> {
    return this.publisher.publish(message);
  }
}
