import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.ts';

/** Builds a limiter on a clock that moves only when the test advances it. */
function limiterAt(eventsPerSecond: number, burst: number) {
  let nowMillis = 0;
  const limiter = new RateLimiter([['hr-system', { eventsPerSecond, burst }]], () => nowMillis);
  return { limiter, advance: (millis: number) => (nowMillis += millis) };
}

describe('RateLimiter', () => {
  it('full bucket allows the burst at once', () => {
    const { limiter } = limiterAt(10, 5);
    expect(limiter.take('hr-system', 5)).toEqual({ isAllowed: true });
    expect(limiter.take('hr-system', 1)).toEqual({ isAllowed: false, retryAfterSeconds: 1 });
  });

  it('refills at the configured rate', () => {
    const { limiter, advance } = limiterAt(10, 5);
    limiter.take('hr-system', 5);
    advance(300);
    expect(limiter.take('hr-system', 3)).toEqual({ isAllowed: true });
    expect(limiter.take('hr-system', 1)).toMatchObject({ isAllowed: false });
  });

  it('never holds more than the burst', () => {
    const { limiter, advance } = limiterAt(10, 5);
    advance(60_000);
    expect(limiter.take('hr-system', 5)).toEqual({ isAllowed: true });
    expect(limiter.take('hr-system', 1)).toMatchObject({ isAllowed: false });
  });

  it('denied take costs nothing', () => {
    const { limiter } = limiterAt(1, 4);
    limiter.take('hr-system', 3);
    expect(limiter.take('hr-system', 2)).toEqual({ isAllowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('hr-system', 1)).toEqual({ isAllowed: true });
  });

  it('retry-after covers the missing tokens', () => {
    const { limiter } = limiterAt(0.5, 10);
    limiter.take('hr-system', 10);
    expect(limiter.take('hr-system', 3)).toEqual({ isAllowed: false, retryAfterSeconds: 6 });
  });

  it('zero cost is always allowed', () => {
    const { limiter } = limiterAt(1, 1);
    limiter.take('hr-system', 1);
    expect(limiter.take('hr-system', 0)).toEqual({ isAllowed: true });
  });

  it('unknown principal is a programming error', () => {
    expect(() => limiterAt(1, 1).limiter.take('payroll', 1)).toThrow('No rate limit is configured for principal "payroll".');
  });
});
