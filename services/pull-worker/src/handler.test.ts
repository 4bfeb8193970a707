import { describe, expect, it } from 'vitest';
import { createLogger, DataValidator, loadCatalog, toPubSubMessage, type HrCloudEvent } from '@hr-events/contract';
import type { DirectoryOutcome, DirectoryStore } from './directory-store.ts';
import { firstDeliveryFault } from './fault-injection.ts';
import { createMessageHandler, type ReceivedMessage } from './handler.ts';

// The handler's ack and nack decisions, with a directory store kept in memory: the Firestore
// store itself is tested against the emulator in test/directory-store.test.ts.

const catalog = loadCatalog();
const validator = new DataValidator(catalog);
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function hired(id: string, overrides: Partial<HrCloudEvent> = {}): HrCloudEvent {
  return {
    specversion: '1.0',
    id,
    source: 'hr-system',
    type: 'hr.employee.hired',
    time: '2027-01-04T09:00:00Z',
    extensions: {},
    data: {
      personId: 'P-1',
      givenName: 'Ada',
      familyName: 'Lovelace',
      workEmail: 'ada@example.com',
      startDate: '2027-01-04',
      department: 'Engineering',
      managerId: 'P-9',
      employmentType: 'full_time',
    },
    ...overrides,
  };
}

interface FakeMessage extends ReceivedMessage {
  settled: string[];
}

function messageFor(event: HrCloudEvent, options: { id?: string; deliveryAttempt?: number; attributes?: Record<string, string | undefined> } = {}): FakeMessage {
  const outgoing = toPubSubMessage(event, catalog, traceparent);
  const attributes = { ...outgoing.attributes, ...options.attributes };
  for (const [name, value] of Object.entries(attributes)) if (value === undefined) delete attributes[name];
  const settled: string[] = [];
  return {
    id: options.id ?? `message-${event.id}`,
    data: outgoing.data,
    attributes: attributes as Record<string, string>,
    deliveryAttempt: options.deliveryAttempt ?? 1,
    orderingKey: outgoing.orderingKey,
    received: Date.now(),
    ack: () => settled.push('ack'),
    nack: () => settled.push('nack'),
    settled,
  };
}

class MemoryStore implements DirectoryStore {
  readonly recorded: HrCloudEvent[] = [];
  next: DirectoryOutcome | Error = 'processed';

  async record(event: HrCloudEvent): Promise<DirectoryOutcome> {
    if (this.next instanceof Error) throw this.next;
    this.recorded.push(event);
    return this.next;
  }
}

function setup(options: { faultPercent?: number } = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ service: 'pull-worker', level: 'debug', destination: { write: (line: string) => lines.push(JSON.parse(line)) } });
  const store = new MemoryStore();
  const handle = createMessageHandler({
    catalog,
    validator,
    store,
    logger,
    projectId: 'demo-project',
    maxDeliveryAttempts: 5,
    fault: options.faultPercent === undefined ? undefined : firstDeliveryFault(options.faultPercent),
  });
  return { handle, store, lines };
}

describe('message handler', () => {
  it('valid event is recorded, then acked', async () => {
    const { handle, store, lines } = setup();
    const message = messageFor(hired('e-1'));

    const outcome = await handle(message);

    expect(outcome).toBe('processed');
    expect(message.settled).toEqual(['ack']);
    expect(store.recorded.map((event) => event.id)).toEqual(['e-1']);
    expect(store.recorded[0]?.data.givenName).toBe('Ada');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      severity: 'INFO',
      messageId: 'message-e-1',
      eventId: 'e-1',
      source: 'hr-system',
      type: 'hr.employee.hired',
      outcome: 'processed',
      deliveryAttempt: 1,
      personId: 'P-1',
      'logging.googleapis.com/trace': 'projects/demo-project/traces/4bf92f3577b34da6a3ce929d0e0e4736',
      'logging.googleapis.com/spanId': '00f067aa0ba902b7',
    });
    expect(lines[0]?.latencyMillis).toBeTypeOf('number');
  });

  it('log line holds no personal data', async () => {
    const { handle, lines } = setup();

    await handle(messageFor(hired('e-1')));

    const line = JSON.stringify(lines);
    for (const value of ['Ada', 'Lovelace', 'ada@example.com', '2027-01-04"', 'Engineering']) expect(line).not.toContain(value);
  });

  it('ack waits for the directory write', async () => {
    const { handle, store } = setup();
    let finishWrite: (outcome: DirectoryOutcome) => void = () => {};
    store.record = () => new Promise((resolve) => (finishWrite = resolve));
    const message = messageFor(hired('e-1'));

    const handling = handle(message);
    await new Promise((resolve) => setImmediate(resolve));
    expect(message.settled).toEqual([]);
    finishWrite('processed');
    await handling;

    expect(message.settled).toEqual(['ack']);
  });

  it('stale and duplicate events are acked', async () => {
    for (const outcome of ['stale', 'duplicate'] as const) {
      const { handle, store, lines } = setup();
      store.next = outcome;
      const message = messageFor(hired('e-1'));

      expect(await handle(message)).toBe(outcome);
      expect(message.settled).toEqual(['ack']);
      expect(lines[0]).toMatchObject({ severity: 'INFO', outcome, eventId: 'e-1' });
    }
  });

  it('missing ce-type is poison and nacked', async () => {
    const { handle, store, lines } = setup();
    const message = messageFor(hired('e-1'), { attributes: { 'ce-type': undefined }, deliveryAttempt: 2 });

    expect(await handle(message)).toBe('poison');
    expect(message.settled).toEqual(['nack']);
    expect(store.recorded).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      severity: 'WARNING',
      outcome: 'poison',
      reason: 'missing-attribute',
      detail: 'message has no "ce-type" attribute',
      messageId: 'message-e-1',
      eventId: 'e-1',
      deliveryAttempt: 2,
      maxDeliveryAttempts: 5,
      isLastAttempt: false,
    });
  });

  it('poison on the last attempt is logged as dead-lettered', async () => {
    const { handle, lines } = setup();
    const message = messageFor(hired('e-1'), { attributes: { 'ce-type': 'hr.unknown.event' }, deliveryAttempt: 5 });

    expect(await handle(message)).toBe('poison');
    expect(message.settled).toEqual(['nack']);
    expect(lines[0]).toMatchObject({ severity: 'ERROR', reason: 'unknown-type', deliveryAttempt: 5, isLastAttempt: true });
    expect(lines[0]?.message).toMatch(/last delivery attempt; Pub\/Sub forwards it to the dead-letter topic/);
  });

  it('contradictory fields are poison, logged without values', async () => {
    const { handle, store, lines } = setup();
    const { employmentType: _employeeOnly, ...person } = hired('e-2').data;
    const contractor = hired('e-2', {
      type: 'hr.contractor.engaged',
      data: { ...person, startDate: '2027-03-01', endDate: '2027-02-01', vendor: 'Acme' },
    });

    expect(await handle(messageFor(contractor))).toBe('poison');
    expect(store.recorded).toEqual([]);
    expect(lines[0]).toMatchObject({ outcome: 'poison', reason: 'invalid-data', invalidFields: ['/data/endDate'] });
    expect(JSON.stringify(lines)).not.toContain('2027-03-01');
  });

  it('undecodable data is poison', async () => {
    const { handle, lines } = setup();
    const message = { ...messageFor(hired('e-1')), data: Buffer.from('{not json') };

    expect(await handle(message)).toBe('poison');
    expect(message.settled).toEqual(['nack']);
    expect(lines[0]).toMatchObject({ reason: 'undecodable-data' });
  });

  it('failed directory write is nacked for retry', async () => {
    const { handle, store, lines } = setup();
    store.next = Object.assign(new Error('14 UNAVAILABLE: Firestore unavailable'), { code: 14 });
    const message = messageFor(hired('e-1'));

    expect(await handle(message)).toBe('retry');
    expect(message.settled).toEqual(['nack']);
    expect(lines[0]).toMatchObject({ severity: 'WARNING', outcome: 'retry', errorCode: 14, isLastAttempt: false, eventId: 'e-1' });
    expect(lines[0]?.message).toBe('directory write failed; nacked for redelivery');
  });

  it('failed write on the last attempt says dead-letter', async () => {
    const { handle, store, lines } = setup();
    store.next = new Error('10 ABORTED: too much contention');

    expect(await handle(messageFor(hired('e-1'), { deliveryAttempt: 5 }))).toBe('retry');
    expect(lines[0]).toMatchObject({ severity: 'ERROR', outcome: 'retry', isLastAttempt: true });
    expect(lines[0]?.message).toMatch(/last delivery attempt; nacked, so Pub\/Sub forwards the message to the dead-letter topic/);
  });

  it('injected fault nacks the first delivery only', async () => {
    const { handle, store, lines } = setup({ faultPercent: 100 });
    const first = messageFor(hired('e-1'), { id: 'm-1', deliveryAttempt: 1 });
    const second = messageFor(hired('e-1'), { id: 'm-1', deliveryAttempt: 2 });

    expect(await handle(first)).toBe('retry');
    expect(first.settled).toEqual(['nack']);
    expect(store.recorded).toEqual([]);
    expect(lines[0]).toMatchObject({ severity: 'WARNING', outcome: 'retry', fault: 'FAULT_FAIL_FIRST_DELIVERY_PERCENT', messageId: 'm-1' });

    expect(await handle(second)).toBe('processed');
    expect(second.settled).toEqual(['ack']);
    expect(store.recorded).toHaveLength(1);
  });

  it('message without traceparent is logged without trace', async () => {
    const { handle, lines } = setup();

    await handle(messageFor(hired('e-1'), { attributes: { traceparent: undefined } }));

    expect(lines[0]).toMatchObject({ outcome: 'processed' });
    expect(lines[0]).not.toHaveProperty('logging.googleapis.com/trace');
  });
});
