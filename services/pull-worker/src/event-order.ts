import { eventKey } from '@hr-events/contract';

// Which of two events about one person is the newer. The directory keeps the newest state per
// person, and every worker must reach the same document whatever order the events arrive in, so
// the order is total: first the instant of `time`, then, for equal instants, the event key.

/** The event a directory entry came from, as stored in the person document's `lastEvent`. */
export interface EventReference {
  id: string;
  source: string;
  type: string;
  /** RFC 3339, as the event carried it. */
  time: string;
}

const fractionPattern = /\.(\d+)/;

/**
 * Converts an RFC 3339 time to nanoseconds since the epoch, or returns undefined when it does not
 * parse. Date.parse resolves the offset but keeps only milliseconds, so the fraction is added
 * separately: 2027-01-04T09:00:00.0001Z and 2027-01-04T09:00:00.0002Z are different instants.
 */
export function instantNanos(time: string): bigint | undefined {
  const fraction = fractionPattern.exec(time)?.[1] ?? '';
  const millis = Date.parse(time.replace(fractionPattern, ''));
  if (Number.isNaN(millis)) return undefined;
  return BigInt(millis) * 1_000_000n + BigInt(fraction.padEnd(9, '0').slice(0, 9));
}

/**
 * Returns a positive number when `a` is newer than `b`, a negative one when it is older, and 0
 * only for the same event (same source and id). A time that does not parse counts as older than
 * any time that does, so a damaged `lastEvent` is replaced rather than kept forever.
 */
export function compareEvents(a: EventReference, b: EventReference): number {
  const aNanos = instantNanos(a.time);
  const bNanos = instantNanos(b.time);
  if (aNanos !== bNanos) {
    if (bNanos === undefined) return 1;
    if (aNanos === undefined) return -1;
    return aNanos > bNanos ? 1 : -1;
  }

  // Equal instants: the greater event key wins. The key is a hash of (source, id), so the choice
  // does not depend on arrival order, and both sides compute it the same way.
  const aKey = eventKey(a.source, a.id);
  const bKey = eventKey(b.source, b.id);
  if (aKey === bKey) return 0;
  return aKey > bKey ? 1 : -1;
}
