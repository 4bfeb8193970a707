import { serve } from '@hono/node-server';
import { Hono } from 'hono';

// The "echo" baseline: a plain Hono POST handler that parses the JSON body and responds 202 without
// publishing anything. It shows the most that this stack (Node, @hono/node-server, Hono) can serve.

const app = new Hono();

app.get('/health', (c) => c.json({ status: 'ok' }));
app.post('/v1/events', async (c) => {
  const event = await c.req.json<{ id?: unknown; source?: unknown }>();
  return c.json({ id: event.id, source: event.source }, 202);
});

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 8080), hostname: process.env.HOST ?? '127.0.0.1' });
process.once('SIGTERM', () => process.exit(0));
