import { PubSub, type Message } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataValidator, childTrace, loadCatalog, parseStructuredEvent, toPubSubMessage, topology } from '@hr-events/contract';
import { provisionTopology } from '../../../scripts/lib/provision.ts';
import { uniqueProjectId } from '../../../test/support/project.ts';
import { engagedEvent, hiredEvent } from '../../../test/fixtures/events.ts';

// Publishes straight to the topic with the client library, bypassing the ingest, to prove that the
// topic's Avro schema (generated from the same catalog as the edge validation) guards the topic.

const invalidArgument = 3;
const catalog = loadCatalog();
const validator = new DataValidator(catalog);
const names = topology();
const projectId = uniqueProjectId('schema');
const pubsub = new PubSub({ projectId });

function messageFor(event: ReturnType<typeof hiredEvent>) {
  const parsed = parseStructuredEvent(event, validator);
  if (parsed.event === undefined) throw new Error(`fixture is invalid: ${JSON.stringify(parsed.problems)}`);
  return toPubSubMessage(parsed.event, catalog, childTrace(undefined).traceparent);
}

beforeAll(async () => {
  await provisionTopology({ projectId, topology: names, pushEndpoint: 'http://127.0.0.1:9/pubsub/push', pubsub });
});

afterAll(async () => {
  await pubsub.close();
});

describe('topic schema', () => {
  it('accepts the records the contract produces, as plain JSON', async () => {
    const topic = pubsub.topic(names.topic.name, { messageOrdering: true });
    const hired = messageFor(hiredEvent());
    const engaged = messageFor(engagedEvent());
    await topic.publishMessage(hired);
    await topic.publishMessage(engaged);

    const received = await pullAll(names.subscriptions.directory.name, 2);
    const records = received.map((message) => JSON.parse(message.data.toString()) as Record<string, unknown>);
    expect(records).toContainEqual(JSON.parse(hired.data.toString()));
    expect(records).toContainEqual(JSON.parse(engaged.data.toString()));
    expect(received.map((message) => message.attributes['ce-type']).sort()).toEqual(['hr.contractor.engaged', 'hr.employee.hired']);
  });

  it('rejects a record without a person field', async () => {
    const record = JSON.parse(messageFor(hiredEvent()).data.toString()) as Record<string, unknown>;
    delete record.workEmail;
    await expect(pubsub.topic(names.topic.name).publishMessage({ json: record })).rejects.toMatchObject({ code: invalidArgument });
  });

  it('rejects a details value that is not a string', async () => {
    const record = JSON.parse(messageFor(hiredEvent()).data.toString()) as Record<string, unknown>;
    record.details = { employmentType: 7 };
    await expect(pubsub.topic(names.topic.name).publishMessage({ json: record })).rejects.toMatchObject({ code: invalidArgument });
  });

  it('rejects data that is not JSON', async () => {
    await expect(pubsub.topic(names.topic.name).publishMessage({ data: Buffer.from('<hire/>') })).rejects.toMatchObject({ code: invalidArgument });
  });
});

async function pullAll(subscriptionName: string, count: number): Promise<Message[]> {
  const subscription = pubsub.subscription(subscriptionName);
  const messages: Message[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`received ${messages.length} of ${count} messages`)), 10_000);
    subscription.on('error', reject);
    subscription.on('message', (message: Message) => {
      message.ack();
      messages.push(message);
      if (messages.length === count) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await subscription.close();
  return messages;
}
