import type { OutgoingMessage } from '@hr-events/contract';
import type { EventPublisher, PubSubPublisherOptions } from '../../services/ingest/src/publisher.ts';

// A stand-in for the ingest's publisher that confirms every message at once without sending it
// anywhere. The benchmark builds an ingest with it to measure the edge's own cost (HTTP, Hono,
// authentication, validation, logging) apart from publishing. Never deploy that build.

export { invalidArgumentCode, publishErrorCode } from '../../services/ingest/src/publish-error.ts';
export type { EventPublisher };

export class PubSubEventPublisher implements EventPublisher {
  private published = 0;

  constructor(_options: PubSubPublisherOptions) {}

  async publish(_message: OutgoingMessage): Promise<string> {
    this.published += 1;
    return String(this.published);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
