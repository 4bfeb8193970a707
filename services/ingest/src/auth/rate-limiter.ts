import type { RateLimit } from '@hr-events/contract';

// A token bucket per principal. The bucket contains at most `burst` tokens and refills at
// `eventsPerSecond`. A request takes as many tokens as it costs, or none when too few are left.
// Refilling happens on each take, from the time elapsed since the last one, so idle principals
// cost nothing.
//
// NOTE: The buckets live in one process. Cloud Run runs several instances, and each keeps its own
// buckets, so a principal can reach up to (instances x limit) across the service.

export type TakeResult = { isAllowed: true } | { isAllowed: false; retryAfterSeconds: number };

interface Bucket {
  readonly limit: RateLimit;
  tokens: number;
  refilledAtMillis: number;
}

const allowed: TakeResult = { isAllowed: true };

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  private readonly now: () => number;

  /** `now` returns milliseconds from a monotonic clock; tests pass one they move themselves. */
  constructor(limits: Iterable<[string, RateLimit]>, now: () => number = () => performance.now()) {
    this.now = now;
    const startedAt = now();
    for (const [name, limit] of limits) this.buckets.set(name, { limit, tokens: limit.burst, refilledAtMillis: startedAt });
  }

  /** Takes `cost` tokens from the principal's bucket, or returns how long to wait until enough are back. */
  take(principal: string, cost: number): TakeResult {
    const bucket = this.buckets.get(principal);
    if (bucket === undefined) throw new Error(`No rate limit is configured for principal "${principal}".`);
    if (cost <= 0) return allowed;

    const nowMillis = this.now();
    const { eventsPerSecond, burst } = bucket.limit;
    bucket.tokens = Math.min(burst, bucket.tokens + ((nowMillis - bucket.refilledAtMillis) / 1000) * eventsPerSecond);
    bucket.refilledAtMillis = nowMillis;

    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return allowed;
    }
    return { isAllowed: false, retryAfterSeconds: Math.max(1, Math.ceil((cost - bucket.tokens) / eventsPerSecond)) };
  }
}
