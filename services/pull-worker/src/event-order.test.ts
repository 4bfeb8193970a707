import { describe, expect, it } from 'vitest';
import { eventKey } from '@hr-events/contract';
import { compareEvents, instantNanos, type EventReference } from './event-order.ts';

const event = (id: string, time: string): EventReference => ({ id, source: 'hr-system', type: 'hr.employee.hired', time });

describe('instantNanos', () => {
  it('resolves offsets to the same instant', () => {
    expect(instantNanos('2027-01-04T10:00:00+01:00')).toBe(instantNanos('2027-01-04T09:00:00Z'));
  });

  it('keeps digits below a millisecond', () => {
    const earlier = instantNanos('2027-01-04T09:00:00.0001Z');
    const later = instantNanos('2027-01-04T09:00:00.0002Z');

    expect(later! - earlier!).toBe(100_000n);
    expect(instantNanos('2027-01-04T09:00:00.123456789Z')).toBe(BigInt(Date.parse('2027-01-04T09:00:00Z')) * 1_000_000n + 123_456_789n);
  });

  it('returns undefined for text that is no time', () => {
    expect(instantNanos('yesterday')).toBeUndefined();
  });
});

describe('compareEvents', () => {
  it('newer instant wins even when the string sorts lower', () => {
    // As strings "…T09:30:00+01:00" > "…T09:00:00Z", but it is 08:30 UTC, the earlier instant.
    const earlier = event('a', '2027-01-04T09:30:00+01:00');
    const later = event('b', '2027-01-04T09:00:00Z');

    expect(compareEvents(later, earlier)).toBeGreaterThan(0);
    expect(compareEvents(earlier, later)).toBeLessThan(0);
  });

  it('equal instants are ordered by event key', () => {
    const first = event('a', '2027-01-04T09:00:00Z');
    const second = event('b', '2027-01-04T10:00:00+01:00');
    const firstWins = eventKey(first.source, first.id) > eventKey(second.source, second.id);

    expect(compareEvents(first, second) > 0).toBe(firstWins);
    expect(compareEvents(second, first) > 0).toBe(!firstWins);
  });

  it('same event compares equal', () => {
    expect(compareEvents(event('a', '2027-01-04T09:00:00Z'), event('a', '2027-01-04T09:00:00Z'))).toBe(0);
  });

  it('unparseable time counts as oldest', () => {
    const damaged = event('a', 'not a time');
    const valid = event('b', '1970-01-01T00:00:00Z');

    expect(compareEvents(valid, damaged)).toBeGreaterThan(0);
    expect(compareEvents(damaged, valid)).toBeLessThan(0);
  });
});
