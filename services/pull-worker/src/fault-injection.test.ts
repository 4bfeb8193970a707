import { describe, expect, it } from 'vitest';
import { eventKey } from '@hr-events/contract';
import { firstDeliveryFault, isSelected } from './fault-injection.ts';

const keys = Array.from({ length: 1000 }, (_, index) => eventKey('hr-system', `event-${index}`));

describe('isSelected', () => {
  it('selects about the given share of keys', () => {
    const selected = keys.filter((key) => isSelected(key, 30)).length;

    expect(selected).toBeGreaterThan(250);
    expect(selected).toBeLessThan(350);
  });

  it('selects none at 0 and all at 100', () => {
    expect(keys.some((key) => isSelected(key, 0))).toBe(false);
    expect(keys.every((key) => isSelected(key, 100))).toBe(true);
  });
});

describe('firstDeliveryFault', () => {
  it('fails only the first delivery of a message', () => {
    const fault = firstDeliveryFault(100);
    const key = keys[0]!;

    expect(fault.shouldFail('m-1', key, 1)).toBe(true);
    expect(fault.shouldFail('m-1', key, 2)).toBe(false);
    expect(fault.shouldFail('m-1', key, 3)).toBe(false);
  });

  it('remembers message ids without delivery attempts', () => {
    // Without a dead-letter policy Pub/Sub reports attempt 0 on every delivery.
    const fault = firstDeliveryFault(100);

    expect(fault.shouldFail('m-1', keys[0]!, 0)).toBe(true);
    expect(fault.shouldFail('m-1', keys[0]!, 0)).toBe(false);
    expect(fault.shouldFail('m-1', keys[0]!, 0)).toBe(false);
    expect(fault.shouldFail('m-2', keys[0]!, 0)).toBe(true);
  });

  it('spares redeliveries a new process sees', () => {
    expect(firstDeliveryFault(100).shouldFail('m-1', keys[0]!, 2)).toBe(false);
  });

  it('chooses the same messages in every process', () => {
    const first = keys.map((key, index) => firstDeliveryFault(40).shouldFail(`m-${index}`, key, 1));
    const second = keys.map((key, index) => firstDeliveryFault(40).shouldFail(`other-${index}`, key, 1));

    expect(second).toEqual(first);
    expect(first.filter(Boolean).length).toBe(keys.filter((key) => isSelected(key, 40)).length);
  });

  it('never fails at 0 percent', () => {
    const fault = firstDeliveryFault(0);

    expect(keys.some((key, index) => fault.shouldFail(`m-${index}`, key, 1))).toBe(false);
  });
});
