// Fails the first delivery of a share of messages, so that an end-to-end test can watch the
// redelivery path work. The share is chosen from the event key, so the same events fail in every
// run. The latest 100,000 message ids already failed are kept in memory, so a message fails only
// once per process unless 100,000 others failed after it. The configuration rejects a share above
// 0 unless an emulator is in use.

export interface FirstDeliveryFault {
  /** Returns true when this delivery must fail. */
  shouldFail(messageId: string, eventKey: string, deliveryAttempt: number): boolean;
}

// Maximum number of remembered ids. Past it, the oldest are forgotten so that memory stays bounded.
const maxRememberedMessageIds = 100_000;

export function firstDeliveryFault(percent: number): FirstDeliveryFault {
  // Message ids already failed, oldest first (a Set keeps insertion order).
  const failedMessageIds = new Set<string>();

  return {
    shouldFail(messageId, eventKey, deliveryAttempt) {
      if (percent <= 0) return false;
      if (failedMessageIds.has(messageId)) return false;
      // Pub/Sub counts attempts only on subscriptions with a dead-letter policy (0 otherwise), and
      // a later attempt means another worker has already failed this message.
      if (deliveryAttempt > 1) return false;
      if (!isSelected(eventKey, percent)) return false;

      failedMessageIds.add(messageId);
      if (failedMessageIds.size > maxRememberedMessageIds) {
        failedMessageIds.delete(failedMessageIds.values().next().value as string);
      }
      return true;
    },
  };
}

/** Returns true for `percent` out of every 100 event keys (hexadecimal SHA-256 digests). */
export function isSelected(eventKey: string, percent: number): boolean {
  const bucket = Number.parseInt(eventKey.slice(0, 8), 16) % 100;
  return bucket < percent;
}
