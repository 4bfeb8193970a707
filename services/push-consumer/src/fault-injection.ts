// Fault injection for end-to-end tests against the emulators. `FirstDeliveryFaults`: the first
// delivery of a fixed share of messages gets a 503 response, so a test can watch Pub/Sub redeliver
// them and check that each still has exactly one effect. `SlowFirstDeliveries`: the first delivery
// of a share of messages waits before its Firestore write, longer than the subscription's ack
// deadline, so Pub/Sub delivers the message again while the first attempt still runs. Shares are
// chosen from the event key, so a run is repeatable. The message ids already affected are kept in
// memory, so a redelivery goes through unchanged.

/** Maximum number of failed message ids kept; the oldest are forgotten first. */
const maxRememberedMessages = 100_000;

export class FirstDeliveryFaults {
  private readonly firstDeliveries: FirstDeliveries;

  constructor(percent: number) {
    this.firstDeliveries = new FirstDeliveries(percent, 'fail');
  }

  /** Returns whether to fail this delivery: true once per message id, for the chosen share of event keys. */
  shouldFailDelivery(eventKey: string, messageId: string): boolean {
    return this.firstDeliveries.isChosenFirstDelivery(eventKey, messageId);
  }
}

export class SlowFirstDeliveries {
  readonly delayMillis: number;
  private readonly firstDeliveries: FirstDeliveries;

  constructor(percent: number, delayMillis: number) {
    if (!Number.isInteger(delayMillis) || delayMillis < 1) {
      throw new RangeError(`The delay of slow first deliveries must be a whole number of milliseconds above 0, found ${delayMillis}.`);
    }
    this.firstDeliveries = new FirstDeliveries(percent, 'slow down');
    this.delayMillis = delayMillis;
  }

  /** Returns how long this delivery waits before its write: `delayMillis` once per message id of a chosen event key, else 0. */
  delayFor(eventKey: string, messageId: string): number {
    return this.firstDeliveries.isChosenFirstDelivery(eventKey, messageId) ? this.delayMillis : 0;
  }
}

/** The first delivery of each message whose event key falls in the share. */
class FirstDeliveries {
  private readonly percent: number;
  private readonly seenMessageIds = new Set<string>();

  constructor(percent: number, action: string) {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      throw new RangeError(`The share of first deliveries to ${action} must be a whole percentage from 0 to 100, found ${percent}.`);
    }
    this.percent = percent;
  }

  isChosenFirstDelivery(eventKey: string, messageId: string): boolean {
    if (!isChosenKey(eventKey, this.percent) || this.seenMessageIds.has(messageId)) return false;

    if (this.seenMessageIds.size >= maxRememberedMessages) {
      const oldest = this.seenMessageIds.values().next().value as string;
      this.seenMessageIds.delete(oldest);
    }
    this.seenMessageIds.add(messageId);
    return true;
  }
}

/** Event keys are SHA-256 hex digests, so their first 32 bits spread evenly over 0 to 99. */
export function isChosenKey(eventKey: string, percent: number): boolean {
  const bucket = Number.parseInt(eventKey.slice(0, 8), 16) % 100;
  return Number.isFinite(bucket) && bucket < percent;
}
