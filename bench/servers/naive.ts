import { serve } from '@hono/node-server';
import { PubSub } from '@google-cloud/pubsub';
import { Hono } from 'hono';

// The "naive" baseline: a Hono handler that awaits `topic.publishMessage()` for every request with
// the client's default batching (up to 100 messages or 10 ms), the way the usual samples publish.
// It does no validation, sets no attributes and no ordering key, and only reshapes the data into
// the topic's Avro record, because the topic schema rejects anything else.

interface HireEvent {
  id: string;
  data: Record<string, string>;
}

const pubsub = new PubSub({ projectId: process.env.GOOGLE_CLOUD_PROJECT });
const topic = pubsub.topic(process.env.TOPIC ?? 'hr-events');
const app = new Hono();

app.get('/health', (c) => c.json({ status: 'ok' }));
app.post('/v1/events', async (c) => {
  const event = await c.req.json<HireEvent>();
  const { employmentType, ...person } = event.data;
  const messageId = await topic.publishMessage({ json: { ...person, details: { employmentType } } });
  return c.json({ id: event.id, messageId }, 202);
});

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 8080), hostname: process.env.HOST ?? '127.0.0.1' });
process.once('SIGTERM', () => void pubsub.close().finally(() => process.exit(0)));
