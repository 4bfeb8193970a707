import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { setTimeout as sleep } from 'node:timers/promises';

/** Serves `app` on a free loopback port, as a push endpoint the Pub/Sub emulator can call. */
export async function servePushEndpoint(app: Hono, path: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started as Server)) as Server;
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Polls `read` until it returns a value other than undefined, or fails after `timeoutMillis`. */
export async function waitFor<T>(description: string, read: () => Promise<T | undefined> | T | undefined, timeoutMillis = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMillis;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`Timed out after ${timeoutMillis} ms waiting for ${description}.`);
}
