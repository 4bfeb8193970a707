// Failure injection for end-to-end tests against the emulators: the first delivery of a fixed
// share of messages gets a 503 response, so a test can watch Pub/Sub redeliver them and check that
// each still has exactly one effect. The share is chosen from the event key, so a run is
// repeatable. The message ids already failed are kept in memory, so a redelivery goes through.

/** Maximum number of failed message ids kept; the oldest are forgotten first. */
const maxRememberedMessages = 100_000;

export class FirstDeliveryFaults {
  private readonly percent: number;
  private readonly failedMessageIds = new Set<string>();

  constructor(percent: number) {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      throw new RangeError(`The share of first deliveries to fail must be a whole percentage from 0 to 100, found ${percent}.`);
    }
    this.percent = percent;
  }

  /** Returns whether to fail this delivery: true once per message id, for the chosen share of event keys. */
  shouldFailDelivery(eventKey: string, messageId: string): boolean {
    if (!this.isChosen(eventKey) || this.failedMessageIds.has(messageId)) return false;

    if (this.failedMessageIds.size >= maxRememberedMessages) {
      const oldest = this.failedMessageIds.values().next().value as string;
      this.failedMessageIds.delete(oldest);
    }
    this.failedMessageIds.add(messageId);
    return true;
  }

  /** Event keys are SHA-256 hex digests, so their first 32 bits spread evenly over 0 to 99. */
  private isChosen(eventKey: string): boolean {
    const bucket = Number.parseInt(eventKey.slice(0, 8), 16) % 100;
    return Number.isFinite(bucket) && bucket < this.percent;
  }
}
