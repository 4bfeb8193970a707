import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  collections,
  createLogger,
  DataValidator,
  eventKey,
  loadCatalog,
  toPubSubMessage,
  topology,
  type HrCloudEvent,
  type Topology,
} from '@hr-events/contract';
import { FirestoreDirectoryStore } from '../src/directory-store.ts';
import { firstDeliveryFault } from '../src/fault-injection.ts';
import { createMessageHandler, type MessageHandler } from '../src/handler.ts';
import { PullWorker } from '../src/worker.ts';

// Shared pieces of the pull worker's emulator tests: a short-timed topology, events, publishing,
// an in-process worker whose log lines the test reads, and polling.

export const catalog = loadCatalog();
export const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/**
 * Production names with test timings: the shortest ack deadline, no backoff and dead-lettering
 * after 5 attempts. The emulator (0.8.20) still waits about 2 s before the third and later
 * deliveries of a nacked message when a subscription has a retry policy, so dead-lettering takes
 * about 8 s.
 */
export function testTopology(options: { messageOrdering: boolean }): Topology {
  return topology({
    subscriptions: {
      directory: {
        ackDeadlineSeconds: 10,
        maxDeliveryAttempts: 5,
        minimumBackoffSeconds: 0,
        maximumBackoffSeconds: 0,
        enableMessageOrdering: options.messageOrdering,
      },
    },
  });
}

export type LogLine = Record<string, unknown> & { message: string };

export function hiredEvent(personId: string, id: string, time: string, data: Record<string, string> = {}): HrCloudEvent {
  return {
    specversion: '1.0',
    id,
    source: 'hr-system',
    type: 'hr.employee.hired',
    time,
    extensions: {},
    data: {
      personId,
      givenName: 'Ada',
      familyName: 'Lovelace',
      workEmail: 'ada@example.com',
      startDate: '2027-01-04',
      department: 'Engineering',
      managerId: 'P-9',
      employmentType: 'full_time',
      ...data,
    },
  };
}

/** Publishes events the way the ingest does: ordered by person, with the contract's attributes. */
export async function publishEvents(pubsub: PubSub, names: Topology, events: HrCloudEvent[]): Promise<string[]> {
  const topic = pubsub.topic(names.topic.name, { messageOrdering: true });
  return Promise.all(events.map((event) => topic.publishMessage(toPubSubMessage(event, catalog, traceparent))));
}

export interface InProcessWorker {
  worker: PullWorker;
  lines: LogLine[];
  firestore: Firestore;
  /** Maximum number of messages the handler worked on at once. */
  maxConcurrent(): number;
  /** Log lines about one event, by outcome. */
  outcomesOf(eventId: string): string[];
  stop(): Promise<void>;
}

export interface InProcessWorkerOptions {
  faultPercent?: number;
  maxOutstandingMessages?: number;
}

export function startInProcessWorker(projectId: string, names: Topology, options: InProcessWorkerOptions = {}): InProcessWorker {
  const lines: LogLine[] = [];
  const logger = createLogger({ service: 'pull-worker', level: 'debug', destination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) } });
  const pubsub = new PubSub({ projectId });
  const firestore = new Firestore({ projectId });
  const handle = createMessageHandler({
    catalog,
    validator: new DataValidator(catalog),
    store: new FirestoreDirectoryStore(firestore),
    logger,
    projectId,
    maxDeliveryAttempts: names.subscriptions.directory.maxDeliveryAttempts,
    fault: options.faultPercent === undefined ? undefined : firstDeliveryFault(options.faultPercent),
  });
  let concurrent = 0;
  let maxConcurrent = 0;
  const handleMessage: MessageHandler = async (message) => {
    concurrent += 1;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    try {
      return await handle(message);
    } finally {
      concurrent -= 1;
    }
  };
  const worker = new PullWorker({
    pubsub,
    subscriptionName: names.subscriptions.directory.name,
    handleMessage,
    logger,
    maxOutstandingMessages: options.maxOutstandingMessages ?? 20,
    maxOutstandingBytes: 1024 * 1024,
    closeTimeoutMillis: 3_000,
    reopenInitialBackoffMillis: 200,
    reopenMaxBackoffMillis: 1_000,
    confirmOpenAfterMillis: 1_000,
  });
  worker.start();

  return {
    worker,
    lines,
    firestore,
    maxConcurrent: () => maxConcurrent,
    outcomesOf: (eventId) => lines.filter((line) => line.eventId === eventId && typeof line.outcome === 'string').map((line) => line.outcome as string),
    async stop() {
      await worker.stop();
      await Promise.all([pubsub.close(), firestore.terminate()]);
    },
  };
}

export async function readPerson(firestore: Firestore, personId: string) {
  return (await firestore.collection(collections.people).doc(personId).get()).data();
}

export async function readReceipt(firestore: Firestore, source: string, id: string) {
  return (await firestore.collection(collections.receipts).doc(eventKey(source, id)).get()).data();
}

/** Polls until `check` returns a value other than undefined or false, or fails after the timeout. */
export async function eventually<T>(description: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMillis = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const result = await check();
    if (result !== undefined && result !== false) return result;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMillis} ms waiting for ${description}.`);
    await sleep(100);
  }
}

/** Collects the messages that reach the dead-letter topic, acking each. */
export function collectDeadLetters(pubsub: PubSub, names: Topology): { messages: Message[]; close(): Promise<void> } {
  const messages: Message[] = [];
  let closing = false;
  const subscription = pubsub.subscription(names.subscriptions.deadLetter.name);
  subscription.on('message', (message: Message) => {
    messages.push(message);
    message.ack();
  });
  // The emulator may end this stream too, so open it again to miss no dead letter.
  subscription.on('error', () => undefined);
  subscription.on('close', () => {
    if (!closing) setTimeout(() => subscription.open(), 100);
  });
  return {
    messages,
    close: () => {
      closing = true;
      return subscription.close();
    },
  };
}
