import type { PubSub } from '@google-cloud/pubsub';
import { loadCatalog, toPubSubMessage, topology, type HrCloudEvent, type OutgoingMessage } from '@hr-events/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueProjectId } from '../../../test/support/project.ts';
import type { PubSubEventPublisher } from '../src/publisher.ts';
import { hiredData } from './support/fixtures.ts';
import { receiveMessages, startEmulatorPublisher, type EmulatorPublisher } from './support/pubsub.ts';

// The publisher's batching against the Pub/Sub emulator: messages of several people published in
// the same turn of the event loop travel in shared Publish requests (see publish-batcher.test.ts),
// and the ordered subscription must still receive each person's messages in publish order.

const projectId = uniqueProjectId('ingest-batching');
const names = topology();
const catalog = loadCatalog();
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
let emulator: EmulatorPublisher;
let admin: PubSub;
let publisher: PubSubEventPublisher;

beforeAll(async () => {
  emulator = await startEmulatorPublisher(projectId, names);
  ({ admin, publisher } = emulator);
});

afterAll(async () => {
  await emulator?.close();
});

function hireMessage(id: string, personId: string): OutgoingMessage {
  const event: HrCloudEvent = {
    specversion: '1.0',
    id,
    source: 'hr-system',
    type: 'hr.employee.hired',
    time: '2027-01-01T09:00:00Z',
    extensions: {},
    data: hiredData({ personId }) as Record<string, string>,
  };
  return toPubSubMessage(event, catalog, traceparent);
}

describe('batched publishing on the emulator', () => {
  it('interleaved people keep their order', async () => {
    const people = ['P-order-a', 'P-order-b', 'P-order-c'];
    const sequence = [1, 2, 3, 4].flatMap((step) => people.map((personId) => ({ id: `${personId}-${step}`, personId })));
    const messageIds = await Promise.all(sequence.map(({ id, personId }) => publisher.publish(hireMessage(id, personId))));
    expect(new Set(messageIds).size).toBe(sequence.length);

    const received = await receiveMessages(admin.subscription(names.subscriptions.directory.name), sequence.length);
    for (const personId of people) {
      const order = received.filter((message) => message.orderingKey === personId).map((message) => message.attributes['ce-id']);
      expect(order).toEqual([1, 2, 3, 4].map((step) => `${personId}-${step}`));
    }
  });

  it('schema-invalid message fails alone', async () => {
    const valid = hireMessage('batch-valid', 'P-valid');
    const broken = hireMessage('batch-broken', 'P-broken');
    const record = JSON.parse(broken.data.toString()) as Record<string, unknown>;
    delete record.givenName;

    // Both are queued in the same turn, so they leave in one Publish request, which the emulator
    // rejects as a whole because of the topic's Avro schema.
    const outcomes = await Promise.allSettled([publisher.publish(valid), publisher.publish({ ...broken, data: Buffer.from(JSON.stringify(record)) })]);
    expect(outcomes[0]).toMatchObject({ status: 'fulfilled', value: expect.stringMatching(/^\d+$/) });
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { code: 3 } });

    const [message] = await receiveMessages(admin.subscription(names.subscriptions.directory.name), 1);
    expect(message?.attributes['ce-id']).toBe('batch-valid');
  });
});
