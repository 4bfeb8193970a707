import { Firestore } from '@google-cloud/firestore';
import { afterAll, describe, expect, it } from 'vitest';
import { ProblemType, collections, eventKey, type HrCloudEvent } from '@hr-events/contract';
import { createApp, maxPushBodyBytes, type AppDependencies } from './app.ts';
import { FirstDeliveryFaults, SlowFirstDeliveries } from './fault-injection.ts';
import type { OnboardingReceipt, OnboardingRecord } from './onboarding-record.ts';
import { FirestoreOnboardingStore, StoreUnavailableError, type OnboardingStore } from './onboarding-store.ts';
import { freePort } from '../../../scripts/lib/emulators.ts';
import { engagedEvent, hiredEvent } from '../../../test/fixtures/events.ts';
import { uniqueProjectId } from '../../../test/support/project.ts';
import { capturingLogger, catalog, encodeEvent, nextMessageId, pushInit, validator, wrappedPushBody } from '../test/support/push.ts';

// The push endpoint through app.request(), with the real Firestore store on the emulator.

const projectId = uniqueProjectId('push-app');
const firestore = new Firestore({ projectId });
const store = new FirestoreOnboardingStore(firestore);
const fixedNow = new Date('2026-12-01T08:00:00.000Z');

afterAll(async () => {
  await firestore.terminate();
});

function appWith(overrides: Partial<AppDependencies> = {}) {
  const { logger, lines } = capturingLogger();
  const app = createApp({ authentication: 'disabled', store, catalog, validator, logger, clock: () => fixedNow, projectId, maxDeliveryAttempts: 5, ...overrides });
  return { app, lines };
}

async function onboardingDocument(event: HrCloudEvent) {
  return (await firestore.collection(collections.onboarding).doc(eventKey(event.source, event.id)).get()).data();
}

async function receiptDocument(event: HrCloudEvent) {
  return (await firestore.collection(collections.receipts).doc(eventKey(event.source, event.id)).get()).data();
}

describe('push endpoint', () => {
  it('health returns ok', async () => {
    const { app } = appWith();
    const response = await app.request('/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('wrapped push creates the onboarding record and the receipt', async () => {
    const { app, lines } = appWith();
    const { event, message } = encodeEvent(hiredEvent());
    const messageId = nextMessageId();

    const response = await app.request('/pubsub/push', pushInit(wrappedPushBody(message, { messageId })));

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ outcome: 'processed', messageId, eventId: event.id, source: event.source });
    const record = (await onboardingDocument(event)) as OnboardingRecord;
    expect(record).toMatchObject({ eventId: event.id, source: 'hr-system', type: 'hr.employee.hired', eventTime: event.time, messageId, createdAt: fixedNow.toISOString() });
    expect(record.person).toMatchObject({ personId: event.data.personId, startDate: '2027-01-04', department: 'Engineering' });
    expect(record.details).toEqual({ employmentType: 'full_time' });
    expect(record.checklist.map((item) => item.id)).toEqual(['prepare-workstation', 'create-accounts', 'welcome-meeting', 'meet-the-team', 'first-week-review']);
    expect(await receiptDocument(event)).toEqual({
      id: event.id,
      source: 'hr-system',
      type: 'hr.employee.hired',
      consumers: { onboarding: { status: 'processed', at: fixedNow.toISOString() } },
    });

    const line = lines.find((entry) => entry.outcome === 'processed');
    expect(line).toMatchObject({ severity: 'INFO', messageId, eventId: event.id, source: 'hr-system', type: 'hr.employee.hired', pushFormat: 'wrapped' });
    expect(line?.['logging.googleapis.com/trace']).toMatch(new RegExp(`^projects/${projectId}/traces/[0-9a-f]{32}$`));
    expect(typeof line?.latencyMillis).toBe('number');
  });

  it('unwrapped push with metadata headers creates the record', async () => {
    const { app, lines } = appWith();
    const { event, message } = encodeEvent(engagedEvent());
    const messageId = nextMessageId();

    const response = await app.request('/pubsub/push', {
      method: 'POST',
      body: message.data,
      headers: {
        ...message.attributes,
        'content-type': 'application/json',
        'x-goog-pubsub-message-id': messageId,
        'x-goog-pubsub-publish-time': new Date().toISOString(),
        'x-goog-pubsub-subscription-name': 'projects/test/subscriptions/hr-events-onboarding-push',
        'x-goog-pubsub-ordering-key': event.data.personId as string,
      },
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ outcome: 'processed', messageId, eventId: event.id });
    const record = (await onboardingDocument(event)) as OnboardingRecord;
    expect(record.details).toEqual({ endDate: '2027-06-30', vendor: 'Acme Staffing' });
    expect(record.checklist.at(-1)).toEqual({ id: 'offboarding-reminder', title: expect.any(String), dueDate: '2027-06-16', status: 'open' });
    expect(lines.find((entry) => entry.outcome === 'processed')).toMatchObject({ pushFormat: 'unwrapped', messageId });
  });

  it('accepts the message_id and publish_time spellings', async () => {
    const { app } = appWith();
    const { event, message } = encodeEvent(hiredEvent());
    const body = {
      message: { data: message.data.toString('base64'), attributes: message.attributes, message_id: '424242', publish_time: new Date().toISOString() },
      subscription: 'projects/test/subscriptions/s-1',
    };

    const response = await app.request('/pubsub/push', pushInit(body));

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ outcome: 'processed', messageId: '424242' });
    expect(await onboardingDocument(event)).toMatchObject({ messageId: '424242' });
  });

  it('redelivery is acknowledged as a duplicate with one effect', async () => {
    const { app, lines } = appWith({ clock: () => new Date() });
    const { event, message } = encodeEvent(hiredEvent());
    const body = wrappedPushBody(message);

    const first = await app.request('/pubsub/push', pushInit(body));
    const firstReceipt = await receiptDocument(event);
    const second = await app.request('/pubsub/push', pushInit(body));

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ outcome: 'duplicate', eventId: event.id });
    expect(await receiptDocument(event)).toEqual(firstReceipt);
    expect(lines.map((line) => line.outcome)).toEqual(['processed', 'duplicate']);
  });

  it('same event in another message has one effect', async () => {
    const { app } = appWith();
    const { event, message } = encodeEvent(hiredEvent());

    const first = await app.request('/pubsub/push', pushInit(wrappedPushBody(message)));
    const second = await app.request('/pubsub/push', pushInit(wrappedPushBody(message)));

    expect(await first.json()).toMatchObject({ outcome: 'processed' });
    expect(await second.json()).toMatchObject({ outcome: 'duplicate' });
    const records = await firestore.collection(collections.onboarding).where('eventId', '==', event.id).get();
    expect(records.size).toBe(1);
  });

  it('concurrent deliveries of one message have one effect', async () => {
    const { app } = appWith();
    const { event, message } = encodeEvent(engagedEvent());
    const body = wrappedPushBody(message);

    const responses = await Promise.all(Array.from({ length: 5 }, () => app.request('/pubsub/push', pushInit(body))));

    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    const outcomes = await Promise.all(responses.map(async (response) => ((await response.json()) as { outcome: string }).outcome));
    expect(outcomes.filter((outcome) => outcome === 'processed')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'duplicate')).toHaveLength(4);
    const records = await firestore.collection(collections.onboarding).where('eventId', '==', event.id).get();
    expect(records.size).toBe(1);
  });

  it('receipt keeps the directory entry', async () => {
    const { app } = appWith();
    const { event, message } = encodeEvent(hiredEvent());
    const directory = { status: 'processed', at: '2026-12-01T07:59:00.000Z' };
    await firestore
      .collection(collections.receipts)
      .doc(eventKey(event.source, event.id))
      .set({ id: event.id, source: event.source, type: event.type, consumers: { directory } });

    const response = await app.request('/pubsub/push', pushInit(wrappedPushBody(message)));

    expect(response.status).toBe(200);
    expect((await receiptDocument(event))?.consumers).toEqual({ directory, onboarding: { status: 'processed', at: fixedNow.toISOString() } });
  });
});

describe('poison messages', () => {
  it('message without attributes is poison and stores nothing', async () => {
    const { app, lines } = appWith();
    const { event, message } = encodeEvent(hiredEvent());
    const messageId = nextMessageId();

    const response = await app.request('/pubsub/push', pushInit(wrappedPushBody({ data: message.data }, { messageId, deliveryAttempt: 2 })));

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ type: ProblemType.poisonMessage, status: 400, detail: expect.stringContaining('missing-attribute') });
    expect(await onboardingDocument(event)).toBeUndefined();
    expect(await receiptDocument(event)).toBeUndefined();
    expect(lines).toEqual([expect.objectContaining({ severity: 'WARNING', outcome: 'poison', poisonReason: 'missing-attribute', messageId, deliveryAttempt: 2 })]);
  });

  it('unknown event type is poison', async () => {
    const { app, lines } = appWith();
    const { event, message } = encodeEvent(hiredEvent());

    const response = await app.request('/pubsub/push', pushInit(wrappedPushBody({ data: message.data, attributes: { ...message.attributes, 'ce-type': 'hr.employee.promoted' } })));

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: ProblemType.poisonMessage, detail: expect.stringContaining('unknown-type') });
    expect(await onboardingDocument(event)).toBeUndefined();
    expect(lines[0]).toMatchObject({ outcome: 'poison', poisonReason: 'unknown-type' });
    expect(lines[0]).toMatchObject({ eventId: event.id, source: event.source, type: 'hr.employee.promoted' });
  });

  it('end date before start date is poison, logged without dates', async () => {
    const { app, lines } = appWith();
    const { event, message } = encodeEvent(engagedEvent());
    const record = JSON.parse(message.data.toString()) as { details: Record<string, string> };
    record.details.endDate = '2026-01-01';

    const response = await app.request('/pubsub/push', pushInit(wrappedPushBody({ data: Buffer.from(JSON.stringify(record)), attributes: message.attributes })));

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: ProblemType.poisonMessage, detail: expect.stringContaining('/data/endDate') });
    expect(await onboardingDocument(event)).toBeUndefined();
    expect(lines[0]).toMatchObject({ outcome: 'poison', poisonReason: 'invalid-data', invalidFields: ['/data/endDate'] });
    expect(JSON.stringify(lines)).not.toMatch(/2026-01-01|2027-01-11/);
  });

  it('poison at the max delivery attempt is logged as dead-lettered', async () => {
    const { app, lines } = appWith({ maxDeliveryAttempts: 5 });
    const { message } = encodeEvent(hiredEvent());

    const response = await app.request('/pubsub/push', pushInit(wrappedPushBody({ data: message.data }, { deliveryAttempt: 5 })));

    expect(response.status).toBe(400);
    expect(lines[0]).toMatchObject({ severity: 'ERROR', outcome: 'poison', deliveryAttempt: 5, message: expect.stringContaining('dead-letter topic') });
  });
});

describe('invalid push requests', () => {
  const { message } = encodeEvent(hiredEvent());
  const cases: [string, string][] = [
    ['body that is not JSON', 'hello'],
    ['JSON without a message', JSON.stringify({ subscription: 'projects/p/subscriptions/s' })],
    ['message that is not an object', JSON.stringify({ message: 'x' })],
    ['message without an id', JSON.stringify({ message: { data: message.data.toString('base64') } })],
    ['data that is not base64', JSON.stringify({ message: { data: '***', messageId: '1' } })],
    ['attributes that are not strings', JSON.stringify({ message: { data: '', messageId: '1', attributes: { 'ce-id': 7 } } })],
    ['delivery attempt of zero', JSON.stringify({ message: { data: '', messageId: '1' }, deliveryAttempt: 0 })],
  ];

  it.each(cases)('%s is rejected with 400', async (_name, body) => {
    const { app, lines } = appWith();
    const response = await app.request('/pubsub/push', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: ProblemType.invalidPushRequest, status: 400 });
    expect(lines).toEqual([expect.objectContaining({ severity: 'WARNING', outcome: 'invalid-push-request' })]);
  });

  it('oversized body is rejected with 413', async () => {
    const { app } = appWith();
    const response = await app.request('/pubsub/push', { method: 'POST', body: 'x'.repeat(maxPushBodyBytes + 1), headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ type: ProblemType.payloadTooLarge });
  });

  it('unknown route returns 404', async () => {
    const { app } = appWith();
    const response = await app.request('/pubsub/pull', { method: 'POST' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ type: ProblemType.notFound });
  });
});

describe('retriable failures', () => {
  it('injected fault fails only the first delivery', async () => {
    const { app, lines } = appWith({ faults: new FirstDeliveryFaults(100) });
    const { event, message } = encodeEvent(hiredEvent());
    const body = wrappedPushBody(message);

    const first = await app.request('/pubsub/push', pushInit(body));
    const storedAfterFirst = await onboardingDocument(event);
    const second = await app.request('/pubsub/push', pushInit(body));

    expect(first.status).toBe(503);
    expect(await first.json()).toMatchObject({ type: ProblemType.storeUnavailable });
    expect(storedAfterFirst).toBeUndefined();
    expect(second.status).toBe(200);
    expect(await onboardingDocument(event)).toMatchObject({ eventId: event.id });
    expect(lines[0]).toMatchObject({ severity: 'WARNING', outcome: 'retry', injectedFault: true, eventId: event.id });
  });

  it('overlapping deliveries record once', async () => {
    // The first delivery waits before its write; the redelivery that Pub/Sub sends meanwhile writes first.
    const { app, lines } = appWith({ slowDeliveries: new SlowFirstDeliveries(100, 300) });
    const { event, message } = encodeEvent(hiredEvent());
    const body = wrappedPushBody(message);

    const first = app.request('/pubsub/push', pushInit(body));
    const second = await app.request('/pubsub/push', pushInit(body));
    const storedBeforeFirstEnds = await onboardingDocument(event);
    const firstResponse = await first;

    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ outcome: 'processed' });
    expect(storedBeforeFirstEnds).toMatchObject({ eventId: event.id });
    expect(firstResponse.status).toBe(200);
    expect(await firstResponse.json()).toMatchObject({ outcome: 'duplicate' });
    expect(lines.map((line) => line.outcome)).toEqual([undefined, 'processed', 'duplicate']);
    expect(lines[0]).toMatchObject({ severity: 'WARNING', injectedDelayMillis: 300, eventId: event.id });
  });

  it('unreachable Firestore returns 503', async () => {
    // A client aimed at a closed loopback port simulates a Firestore outage.
    const emulatorHost = process.env.FIRESTORE_EMULATOR_HOST;
    process.env.FIRESTORE_EMULATOR_HOST = `127.0.0.1:${await freePort()}`;
    const unreachable = new Firestore({ projectId });
    process.env.FIRESTORE_EMULATOR_HOST = emulatorHost;
    const { app, lines } = appWith({ store: new FirestoreOnboardingStore(unreachable, { commitTimeoutMillis: 1_000 }) });
    const { event, message } = encodeEvent(hiredEvent());

    const response = await app.request('/pubsub/push', pushInit(wrappedPushBody(message)));

    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ type: ProblemType.storeUnavailable, status: 503 });
    expect(lines[0]).toMatchObject({ severity: 'WARNING', outcome: 'retry', eventId: event.id, message: expect.stringContaining('timed out') });
    // terminate() would wait for the commit, which waits for a connection until its own deadline.
    void unreachable.terminate();
  });

  // The emulator never returns RESOURCE_EXHAUSTED and has no unexpected failures, so these two
  // tests use a store that throws the errors Firestore would.
  function failingStore(error: Error): OnboardingStore {
    return {
      recordOnboarding: async (_key: string, _record: OnboardingRecord, _receipt: OnboardingReceipt) => {
        throw error;
      },
      close: async () => {},
    };
  }

  it('Firestore over quota returns 429', async () => {
    const { app, lines } = appWith({ store: failingStore(new StoreUnavailableError('Firestore commit failed with gRPC code 8', 8, undefined)) });
    const { message } = encodeEvent(hiredEvent());

    const response = await app.request('/pubsub/push', pushInit(wrappedPushBody(message, { deliveryAttempt: 5 })));

    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ type: ProblemType.rateLimited });
    expect(lines[0]).toMatchObject({ severity: 'ERROR', outcome: 'retry', grpcCode: 8, message: expect.stringContaining('dead-letter topic') });
  });

  it('unexpected store error returns 500', async () => {
    const { app, lines } = appWith({ store: failingStore(new TypeError('Cannot use "undefined" as a Firestore value')) });
    const { message } = encodeEvent(hiredEvent());

    const response = await app.request('/pubsub/push', pushInit(wrappedPushBody(message)));

    expect(response.status).toBe(500);
    const problem = (await response.json()) as { type: string; detail: string };
    expect(problem.type).toBe(ProblemType.internal);
    expect(problem.detail).not.toContain('undefined');
    expect(lines[0]).toMatchObject({ severity: 'ERROR', outcome: 'error', err: expect.objectContaining({ type: 'TypeError' }) });
  });
});
