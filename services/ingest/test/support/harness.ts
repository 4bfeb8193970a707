import { DataValidator, createApiKey, createLogger, loadCatalog, type EventReceipt, type OutgoingMessage, type SourcesFile } from '@hr-events/contract';
import { createApp, type IngestDependencies } from '../../src/app.ts';
import { SourceAccess } from '../../src/auth/source-access.ts';
import type { EventPublisher } from '../../src/publisher.ts';
import type { StatusReader } from '../../src/status.ts';

// Builds the app around in-memory stand-ins, for tests that go through `app.request()`.

export const catalog = loadCatalog();
export const validator = new DataValidator(catalog);

/** The key of the tests' principal, which may send every type and each source the tests use. */
export const testApiKey = createApiKey('test-client', 'k1');
export const testCredentials = { 'x-api-key': testApiKey.key };
export const testSources: SourcesFile = {
  principals: [
    {
      name: 'test-client',
      sources: ['hr-system', 'hr-system-eu', 'vendor-office'],
      types: [...catalog.types.keys()],
      rateLimit: { eventsPerSecond: 1_000_000, burst: 1_000_000 },
      apiKeys: [{ id: 'k1', sha256: testApiKey.sha256 }],
      serviceAccounts: [],
    },
  ],
};

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
    sourceAccess: new SourceAccess({ sources: testSources, audiences: [], logger, retryAfterSeconds: 5 }),
    logger,
    projectId: 'demo-ingest',
    ...overrides,
  });
  return { app, logs };
}

/** Posts `body` as the tests' principal; `headers` may replace the content type and the credentials. */
export function postJson(app: TestApp['app'], body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(
    app.request('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', ...testCredentials, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

/** Sends a GET as the tests' principal. */
export function getAs(app: TestApp['app'], path: string, headers: Record<string, string> = testCredentials): Promise<Response> {
  return Promise.resolve(app.request(path, { headers }));
}

/** Returns the parsed JSON body, typed loosely so tests can reach into problems and statuses. */
export async function jsonOf(response: Response): Promise<any> {
  return response.json();
}
