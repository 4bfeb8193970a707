import { DataValidator, createLogger, loadCatalog, type EventReceipt, type OutgoingMessage } from '@hr-events/contract';
import { createApp, type IngestDependencies } from '../../src/app.ts';
import type { EventPublisher } from '../../src/publisher.ts';
import type { StatusReader } from '../../src/status.ts';

// Builds the app around in-memory stand-ins, for tests that go through `app.request()`.

export const catalog = loadCatalog();
export const validator = new DataValidator(catalog);

/** Confirms every message at once and keeps it, in publish order. */
export class InMemoryPublisher implements EventPublisher {
  readonly messages: OutgoingMessage[] = [];

  async publish(message: OutgoingMessage): Promise<string> {
    this.messages.push(message);
    return String(this.messages.length);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}

/** Serves receipts from an array, filtered the way the Firestore query filters them. */
export class InMemoryStatusReader implements StatusReader {
  readonly receipts: EventReceipt[];

  constructor(receipts: EventReceipt[] = []) {
    this.receipts = receipts;
  }

  async findReceipts(id: string, source: string | undefined): Promise<EventReceipt[]> {
    return this.receipts.filter((receipt) => receipt.id === id && (source === undefined || receipt.source === source));
  }
}

export interface TestApp {
  app: ReturnType<typeof createApp>;
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
}

export function createTestApp(overrides: Partial<IngestDependencies> = {}): TestApp {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: 'ingest',
    level: 'info',
    destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const app = createApp({
    catalog,
    validator,
    publisher: new InMemoryPublisher(),
    statusReader: new InMemoryStatusReader(),
    logger,
    projectId: 'demo-ingest',
    ...overrides,
  });
  return { app, logs };
}

export function postJson(app: TestApp['app'], body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(
    app.request('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

/** Returns the parsed JSON body, typed loosely so tests can reach into problems and statuses. */
export async function jsonOf(response: Response): Promise<any> {
  return response.json();
}
