import { describe, expect, it } from 'vitest';
import { eventKey } from '@hr-events/contract';
import { FirstDeliveryFaults, SlowFirstDeliveries, isChosenKey } from './fault-injection.ts';

const keys = Array.from({ length: 2000 }, (_, index) => eventKey('hr-system', `event-${index}`));

describe('FirstDeliveryFaults', () => {
  it('fails about the configured share of messages', () => {
    const faults = new FirstDeliveryFaults(30);
    const failed = keys.filter((key, index) => faults.shouldFailDelivery(key, `m-${index}`)).length;
    expect(failed / keys.length).toBeGreaterThan(0.25);
    expect(failed / keys.length).toBeLessThan(0.35);
  });

  it('chooses the same messages every run', () => {
    const first = new FirstDeliveryFaults(50);
    const second = new FirstDeliveryFaults(50);
    const chosen = (faults: FirstDeliveryFaults) => keys.filter((key, index) => faults.shouldFailDelivery(key, `m-${index}`));
    expect(chosen(first)).toEqual(chosen(second));
  });

  it('fails a message only on its first delivery', () => {
    const faults = new FirstDeliveryFaults(100);
    expect(faults.shouldFailDelivery(keys[0] as string, 'm-1')).toBe(true);
    expect(faults.shouldFailDelivery(keys[0] as string, 'm-1')).toBe(false);
    expect(faults.shouldFailDelivery(keys[0] as string, 'm-2')).toBe(true);
  });

  it('fails nothing at zero percent', () => {
    const faults = new FirstDeliveryFaults(0);
    expect(keys.some((key, index) => faults.shouldFailDelivery(key, `m-${index}`))).toBe(false);
  });

  it('rejects a share outside 0 to 100', () => {
    expect(() => new FirstDeliveryFaults(101)).toThrow(/from 0 to 100, found 101/);
  });
});

describe('SlowFirstDeliveries', () => {
  it('delays the first delivery of chosen keys only', () => {
    const slow = new SlowFirstDeliveries(40, 15_000);
    const delays = keys.map((key, index) => slow.delayFor(key, `m-${index}`));
    const delayed = keys.filter((_, index) => delays[index] === 15_000);
    expect(delayed).toEqual(keys.filter((key) => isChosenKey(key, 40)));
    expect(delays.every((delay) => delay === 0 || delay === 15_000)).toBe(true);
    expect(delayed.length / keys.length).toBeGreaterThan(0.35);
    expect(delayed.length / keys.length).toBeLessThan(0.45);
  });

  it('lets a redelivery through at once', () => {
    const slow = new SlowFirstDeliveries(100, 12_000);
    expect(slow.delayFor(keys[0] as string, 'm-1')).toBe(12_000);
    expect(slow.delayFor(keys[0] as string, 'm-1')).toBe(0);
  });

  it('rejects a delay below 1 ms', () => {
    expect(() => new SlowFirstDeliveries(10, 0)).toThrow(/above 0, found 0/);
  });
});
