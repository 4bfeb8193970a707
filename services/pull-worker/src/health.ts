import { Hono } from 'hono';
import type { WorkerStatus } from './worker.ts';

// The health endpoint Cloud Run probes. The worker serves no other HTTP traffic.
//
// The rule: 200 while the subscription is open and receiving. 200 also while it is starting or
// re-opening for less than `maxNotOpenMillis`, because the stream ending and being opened again
// is routine (the emulator does it after each dead-lettered message, and Pub/Sub resets streams
// now and then). 503 once starting or re-opening takes longer, which means the subscription is
// missing, access is denied or Pub/Sub is out of reach, and 503 from the moment shutdown begins,
// so no probe counts a stopping instance as serving.

export const healthDefaults = {
  maxNotOpenMillis: 30_000,
} as const;

export interface HealthAppOptions {
  status: () => WorkerStatus;
  maxNotOpenMillis?: number;
  now?: () => number;
}

export function createHealthApp(options: HealthAppOptions): Hono {
  const maxNotOpenMillis = options.maxNotOpenMillis ?? healthDefaults.maxNotOpenMillis;
  const now = options.now ?? Date.now;
  const app = new Hono();

  app.get('/health', (c) => {
    const status = options.status();
    const serving = isServing(status, now(), maxNotOpenMillis);
    const body = { status: serving ? 'serving' : 'not-serving', subscription: status.state, since: new Date(status.since).toISOString() };
    return c.json(body, serving ? 200 : 503);
  });
  return app;
}

export function isServing(status: WorkerStatus, nowMillis: number, maxNotOpenMillis: number): boolean {
  switch (status.state) {
    case 'open':
      return true;
    case 'starting':
    case 'reopening':
      return nowMillis - status.since < maxNotOpenMillis;
    case 'stopping':
    case 'stopped':
      return false;
  }
}
