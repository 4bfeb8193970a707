import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collections, eventKey, topology, type EventReceipt } from '@hr-events/contract';
import { engagedEvent, hiredEvent, type StructuredEvent } from '../fixtures/events.ts';
import { uniqueProjectId } from '../support/project.ts';
import { localApiKey, localSourcesFile, outcomes, startPipeline, type Pipeline } from '../support/pipeline.ts';

// The whole pipeline as separate processes from dist/: 200 mixed events through the ingest in all
// three modes, with both consumers failing the first delivery of a quarter of the messages, so
// redeliveries happen on both paths. The test reconciles what the ingest accepted with what each
// consumer recorded, and with how many effects their logs report.

const projectId = uniqueProjectId('e2e');
const names = topology({
  subscriptions: {
    onboarding: { maxDeliveryAttempts: 5, minimumBackoffSeconds: 0, maximumBackoffSeconds: 1 },
    directory: { maxDeliveryAttempts: 5, minimumBackoffSeconds: 0, maximumBackoffSeconds: 1, ackDeadlineSeconds: 10 },
  },
});
const faults = { FAULT_FAIL_FIRST_DELIVERY_PERCENT: '25' };

let pipeline: Pipeline;
let firestore: Firestore;
let pubsub: PubSub;

beforeAll(async () => {
  pipeline = await startPipeline({ projectId, topology: names, pushConsumerEnv: faults, pullWorkerEnv: faults });
  firestore = new Firestore({ projectId });
  pubsub = new PubSub({ projectId });
});

afterAll(async () => {
  await pipeline?.stop();
  await firestore?.terminate();
  await pubsub?.close();
});

function credentials(source: string): Record<string, string> {
  if (!existsSync(localSourcesFile)) return {};
  return { 'x-api-key': localApiKey(source) };
}

async function postStructured(event: StructuredEvent): Promise<Response> {
  return fetch(`${pipeline.ingest.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json', ...credentials(event.source) },
    body: JSON.stringify(event),
  });
}

async function postBinary(event: StructuredEvent): Promise<Response> {
  const { data, ...context } = event;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...credentials(event.source) };
  for (const [name, value] of Object.entries(context)) headers[`ce-${name}`] = encodeURIComponent(String(value));
  return fetch(`${pipeline.ingest.url}/v1/events`, { method: 'POST', headers, body: JSON.stringify(data) });
}

async function postBatch(events: StructuredEvent[]): Promise<Response> {
  return fetch(`${pipeline.ingest.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json', ...credentials(events[0]!.source) },
    body: JSON.stringify(events),
  });
}

/** Builds the 200 events: one or two per person, both types, with a known newest event per person. */
function buildEvents() {
  const singles: StructuredEvent[] = [];
  for (let index = 0; index < 120; index += 1) singles.push(index % 3 === 0 ? engagedEvent() : hiredEvent());

  // 20 people get two events an hour apart. For half of them the newer one is sent first, so the
  // directory must record the older one as stale and keep the newer state.
  const pairs: { older: StructuredEvent; newer: StructuredEvent; newerFirst: boolean }[] = [];
  for (let index = 0; index < 20; index += 1) {
    const older = hiredEvent({ time: '2027-01-04T09:00:00Z' }, { department: 'Research' });
    const newer = hiredEvent({ time: '2027-01-04T10:00:00Z' }, { personId: older.data.personId!, department: 'Engineering' });
    pairs.push({ older, newer, newerFirst: index % 2 === 0 });
  }

  const batches: StructuredEvent[][] = [];
  for (let batch = 0; batch < 4; batch += 1) {
    const members: StructuredEvent[] = [];
    for (let index = 0; index < 10; index += 1) members.push(batch % 2 === 0 ? hiredEvent() : engagedEvent());
    batches.push(members);
  }
  return { singles, pairs, batches };
}

describe('pipeline end to end', () => {
  it('records every accepted event once per consumer', { timeout: 180_000 }, async () => {
    const { singles, pairs, batches } = buildEvents();
    const accepted = new Map<string, StructuredEvent>();
    const accept = async (response: Promise<Response>, events: StructuredEvent[]) => {
      const answer = await response;
      expect(answer.status, await answer.clone().text()).toBe(202);
      for (const event of events) accepted.set(eventKey(event.source, event.id), event);
    };

    // Singles alternate between structured and binary mode, eight requests at a time.
    for (let start = 0; start < singles.length; start += 8) {
      await Promise.all(
        singles.slice(start, start + 8).map((event, offset) => accept(offset % 2 === 0 ? postStructured(event) : postBinary(event), [event])),
      );
    }
    for (const { older, newer, newerFirst } of pairs) {
      const [first, second] = newerFirst ? [newer, older] : [older, newer];
      await accept(postStructured(first), [first]);
      await accept(postBinary(second), [second]);
    }
    for (const batch of batches) await accept(postBatch(batch), batch);
    expect(accepted.size).toBe(200);

    // A source that retries requests it already sent gets 202 again; consumers deduplicate.
    for (const event of singles.slice(0, 10)) await accept(postStructured(event), [event]);

    // Invalid events are rejected and never recorded.
    const invalid = [
      hiredEvent({}, { workEmail: 'not-an-email' }),
      engagedEvent({}, { startDate: '2027-05-01', endDate: '2027-04-01' }),
      hiredEvent({ specversion: '0.3' }),
    ];
    for (const event of invalid) expect((await postStructured(event)).status).toBe(400);
    const rejectedBatch = [hiredEvent(), hiredEvent({}, { employmentType: 'contractor' })];
    expect((await postBatch(rejectedBatch)).status).toBe(400);

    // A poison message published straight to the topic: the schema accepts the record, but it has
    // no ce-type attribute, so neither consumer can process it.
    const poisonId = `poison-${projectId}`;
    await pubsub.topic(names.topic.name).publishMessage({
      json: { personId: `P-${poisonId}`, givenName: 'A', familyName: 'B', workEmail: 'a@example.com', startDate: '2027-01-04', department: 'X', managerId: 'M', details: {} },
      attributes: { 'ce-id': poisonId, 'ce-source': 'hr-system', 'ce-specversion': '1.0', 'ce-time': '2027-01-04T09:00:00Z' },
    });

    const receipts = await waitForReceipts([...accepted.keys()], 150_000);

    // Both consumers recorded every accepted event.
    for (const [key, event] of accepted) {
      const receipt = receipts.get(key);
      expect(receipt?.consumers.onboarding?.status, `onboarding for ${event.id}`).toBe('processed');
      expect(['processed', 'stale'], `directory for ${event.id}`).toContain(receipt?.consumers.directory?.status);
    }

    // Each consumer reports exactly one effect per event, although deliveries were repeated.
    for (const consumer of ['push-consumer', 'pull-worker'] as const) {
      const lines = outcomes(pipeline, consumer);
      const effects = new Map<string, number>();
      for (const line of lines.filter((entry) => entry.outcome === 'processed' || entry.outcome === 'stale')) {
        const key = eventKey(String(line.source), String(line.eventId));
        effects.set(key, (effects.get(key) ?? 0) + 1);
      }
      expect(effects.size, consumer).toBe(accepted.size);
      expect([...effects.values()].every((count) => count === 1), `${consumer} recorded an event twice`).toBe(true);
      expect(lines.filter((entry) => entry.outcome === 'retry').length, `${consumer} injected failures`).toBeGreaterThan(0);
      expect(lines.filter((entry) => entry.outcome === 'duplicate').length, `${consumer} duplicates`).toBeGreaterThan(0);
    }

    // One onboarding record per accepted event, none for rejected ones.
    const onboarding = await firestore.collection(collections.onboarding).count().get();
    expect(onboarding.data().count).toBe(accepted.size);
    for (const event of [...invalid, ...rejectedBatch]) {
      expect((await firestore.collection(collections.receipts).doc(eventKey(event.source, event.id)).get()).exists).toBe(false);
    }

    // The directory contains each person's newest event. An older event is stale exactly when the
    // directory recorded it after the newer one; the emulator's subscription is unordered (see
    // scripts/lib/provision.ts) and first deliveries fail at random, so either order happens.
    let staleCount = 0;
    for (const { older, newer } of pairs) {
      const person = (await firestore.collection(collections.people).doc(newer.data.personId!).get()).data();
      expect(person?.department).toBe('Engineering');
      expect((person?.lastEvent as { id?: string } | undefined)?.id).toBe(newer.id);
      const olderRecord = receipts.get(eventKey(older.source, older.id))?.consumers.directory;
      const newerRecord = receipts.get(eventKey(newer.source, newer.id))?.consumers.directory;
      expect(newerRecord?.status).toBe('processed');
      const olderAt = Date.parse(olderRecord!.at);
      const newerAt = Date.parse(newerRecord!.at);
      // Receipt times have millisecond precision; equal times do not tell the order.
      if (olderAt !== newerAt) {
        expect(olderRecord?.status, `older event of ${older.data.personId}`).toBe(olderAt > newerAt ? 'stale' : 'processed');
      }
      if (olderRecord?.status === 'stale') staleCount += 1;
    }
    // Half the pairs were published newer first, so some older events must have come last.
    expect(staleCount).toBeGreaterThan(0);
    const people = await firestore.collection(collections.people).count().get();
    expect(people.data().count).toBe(new Set([...accepted.values()].map((event) => event.data.personId)).size);

    // The poison message reached the dead-letter topic from both subscriptions.
    const deadLetters = await pullMatching(names.subscriptions.deadLetter.name, (message) => message.attributes['ce-id'] === poisonId, 2, 60_000);
    expect(deadLetters).toHaveLength(2);
    expect(await firestore.collection(collections.receipts).where('id', '==', poisonId).count().get().then((snapshot) => snapshot.data().count)).toBe(0);
  });
});

async function waitForReceipts(keys: string[], timeoutMillis: number): Promise<Map<string, EventReceipt>> {
  const deadline = Date.now() + timeoutMillis;
  const receipts = new Map<string, EventReceipt>();
  while (Date.now() < deadline) {
    const pending = keys.filter((key) => {
      const consumers = receipts.get(key)?.consumers;
      return consumers?.onboarding === undefined || consumers.directory === undefined;
    });
    if (pending.length === 0) return receipts;
    const snapshots = await firestore.getAll(...pending.map((key) => firestore.collection(collections.receipts).doc(key)));
    for (const snapshot of snapshots) if (snapshot.exists) receipts.set(snapshot.id, snapshot.data() as EventReceipt);
    await sleep(500);
  }
  return receipts;
}

async function pullMatching(subscriptionName: string, matches: (message: Message) => boolean, count: number, timeoutMillis: number): Promise<Message[]> {
  const subscription = pubsub.subscription(subscriptionName);
  const found: Message[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMillis);
    subscription.on('error', () => undefined);
    subscription.on('message', (message: Message) => {
      message.ack();
      if (!matches(message)) return;
      found.push(message);
      if (found.length === count) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await subscription.close();
  return found;
}
