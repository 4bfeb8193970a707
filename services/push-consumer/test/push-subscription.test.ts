import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collections, eventKey, subscriptionPath, topology, type Topology } from '@hr-events/contract';
import { createApp } from '../src/app.ts';
import { FirstDeliveryFaults } from '../src/fault-injection.ts';
import { FirestoreOnboardingStore } from '../src/onboarding-store.ts';
import { startPubSubEmulator, type Emulator } from '../../../scripts/lib/emulators.ts';
import { provisionTopology } from '../../../scripts/lib/provision.ts';
import { engagedEvent, hiredEvent } from '../../../test/fixtures/events.ts';
import { uniqueProjectId } from '../../../test/support/project.ts';
import { capturingLogger, catalog, encodeEvent, validator, type LogLine } from './support/push.ts';
import { servePushEndpoint, waitFor } from './support/serve.ts';

// Real push subscriptions on the Pub/Sub emulator, calling the app served on a loopback port, with
// the effect in the Firestore emulator. The emulator sends no OIDC token, so authentication is off
// here (test/push-authentication.test.ts covers it), and it retries a failed push after a fixed
// second, whatever the subscription's backoff.
//
// The file starts a Pub/Sub emulator of its own, because the emulator pushes at most two requests
// at a time. On the emulator that the whole test run shares, the other files' push traffic once
// kept both poison messages here from being dead-lettered within a minute under CI load.

const projectId = uniqueProjectId('push-sub');
let emulator: Emulator;
let pubsub: PubSub;
const firestore = new Firestore({ projectId });
const store = new FirestoreOnboardingStore(firestore);
const fastRetries = { maxDeliveryAttempts: 5, minimumBackoffSeconds: 0, maximumBackoffSeconds: 1 };
const closers: (() => Promise<void>)[] = [];

/** Provisions a topology whose push subscription calls a fresh app; returns the app's log lines. */
async function pushPipeline(prefix: string, faults?: FirstDeliveryFaults): Promise<{ names: Topology; lines: LogLine[] }> {
  const names = topology({ subscriptions: { onboarding: fastRetries } }, prefix);
  const { logger, lines } = capturingLogger();
  const app = createApp({ authentication: 'disabled', store, catalog, validator, logger, projectId, maxDeliveryAttempts: fastRetries.maxDeliveryAttempts, faults });
  const endpoint = await servePushEndpoint(app, names.subscriptions.onboarding.pushPath);
  closers.push(endpoint.close);
  await provisionTopology({ projectId, topology: names, pushEndpoint: endpoint.url, pubsub });
  return { names, lines };
}

async function onboardingRecord(source: string, id: string) {
  return (await firestore.collection(collections.onboarding).doc(eventKey(source, id)).get()).data();
}

let plain: { names: Topology; lines: LogLine[] };
let faulty: { names: Topology; lines: LogLine[] };

beforeAll(async () => {
  // Each test file runs in a process of its own (the forks pool), so the setting stays in this file.
  emulator = await startPubSubEmulator();
  process.env.PUBSUB_EMULATOR_HOST = emulator.host;
  pubsub = new PubSub({ projectId });
  plain = await pushPipeline('push-plain');
  faulty = await pushPipeline('push-faulty', new FirstDeliveryFaults(100));
});

afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await pubsub?.close();
  await firestore.terminate();
  await emulator?.stop();
});

describe('push subscription on the emulator', () => {
  it('published event lands in Firestore', async () => {
    const { event, message } = encodeEvent(engagedEvent());
    const messageId = await pubsub.topic(plain.names.topic.name, { messageOrdering: true }).publishMessage(message);

    // The handler logs after the commit, so its line is the last sign of the delivery.
    const line = await waitFor('the delivery log line', () => plain.lines.find((entry) => entry.messageId === messageId));
    const record = await onboardingRecord(event.source, event.id);

    expect(record).toMatchObject({ eventId: event.id, source: 'vendor-office', type: 'hr.contractor.engaged', messageId });
    expect(record?.checklist).toHaveLength(6);
    const receipt = (await firestore.collection(collections.receipts).doc(eventKey(event.source, event.id)).get()).data();
    expect(receipt).toEqual({
      id: event.id,
      source: 'vendor-office',
      type: 'hr.contractor.engaged',
      consumers: { onboarding: { status: 'processed', at: expect.any(String) } },
    });
    expect(line).toMatchObject({
      outcome: 'processed',
      pushFormat: 'wrapped',
      subscription: subscriptionPath(projectId, plain.names.subscriptions.onboarding.name),
    });
  });

  it('event published twice has one effect', async () => {
    const { event, message } = encodeEvent(hiredEvent());
    const topic = pubsub.topic(plain.names.topic.name, { messageOrdering: true });
    const messageIds = [await topic.publishMessage(message), await topic.publishMessage(message)];

    const outcomes = await waitFor('both deliveries', () => {
      const lines = plain.lines.filter((line) => messageIds.includes(line.messageId as string));
      return lines.length === 2 ? lines.map((line) => line.outcome).sort() : undefined;
    });

    expect(outcomes).toEqual(['duplicate', 'processed']);
    const records = await firestore.collection(collections.onboarding).where('eventId', '==', event.id).get();
    expect(records.size).toBe(1);
  });

  it('failed first delivery is redelivered and processed once', async () => {
    const { event, message } = encodeEvent(hiredEvent());
    const messageId = await pubsub.topic(faulty.names.topic.name, { messageOrdering: true }).publishMessage(message);

    const lines = await waitFor('the redelivery', () => {
      const deliveries = faulty.lines.filter((line) => line.messageId === messageId);
      return deliveries.length === 2 ? deliveries : undefined;
    });

    expect(await onboardingRecord(event.source, event.id)).toMatchObject({ eventId: event.id, messageId });
    expect(lines.map((line) => [line.outcome, line.injectedFault])).toEqual([
      ['retry', true],
      ['processed', undefined],
    ]);
  });

  it('poison messages end on the dead-letter topic with nothing stored', { timeout: 90_000 }, async () => {
    const topic = pubsub.topic(plain.names.topic.name);
    const withoutType = encodeEvent(hiredEvent());
    const { 'ce-type': _type, ...attributesWithoutType } = withoutType.message.attributes;
    const endsEarly = encodeEvent(engagedEvent());
    const record = JSON.parse(endsEarly.message.data.toString()) as { details: Record<string, string> };
    record.details.endDate = '2026-12-31';

    const deadLettered = receiveDeadLetters(plain.names.subscriptions.deadLetter.name, 2);
    const poisonIds = [
      await topic.publishMessage({ data: withoutType.message.data, attributes: attributesWithoutType }),
      await topic.publishMessage({ data: Buffer.from(JSON.stringify(record)), attributes: endsEarly.message.attributes }),
    ];
    const received = await deadLettered;

    expect(received.map((message) => message.attributes['ce-id']).sort()).toEqual([withoutType.event.id, endsEarly.event.id].sort());
    expect(await onboardingRecord(withoutType.event.source, withoutType.event.id)).toBeUndefined();
    expect(await onboardingRecord(endsEarly.event.source, endsEarly.event.id)).toBeUndefined();
    for (const messageId of poisonIds) {
      const deliveries = plain.lines.filter((line) => line.messageId === messageId);
      expect(deliveries.length).toBeGreaterThanOrEqual(fastRetries.maxDeliveryAttempts);
      expect(deliveries.every((line) => line.outcome === 'poison')).toBe(true);
    }
  });
});

/** Collects `count` messages from the dead-letter subscription, acknowledging each. */
function receiveDeadLetters(subscriptionName: string, count: number): Promise<Message[]> {
  const subscription = pubsub.subscription(subscriptionName);
  const received: Message[] = [];
  return new Promise<Message[]>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`Only ${received.length} of ${count} messages reached the dead-letter subscription within 60 s.`)), 60_000);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      void subscription.close().then(() => (error === undefined ? resolve(received) : reject(error)));
    };
    subscription.on('message', (message: Message) => {
      message.ack();
      received.push(message);
      if (received.length === count) finish();
    });
    subscription.on('error', (error: Error) => finish(error));
  });
}
