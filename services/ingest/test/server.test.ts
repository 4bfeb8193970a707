import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PubSub } from '@google-cloud/pubsub';
import { ProblemType, maxBodyBytes, topology } from '@hr-events/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/emulators.ts';
import { provisionTopology } from '../../../scripts/lib/provision.ts';
import { emulatorEnvironment, uniqueProjectId } from '../../../test/support/project.ts';
import { hiredData, hiredEvent } from './support/fixtures.ts';
import { localDevelopmentKey } from './support/local-sources.ts';
import { receiveMessages } from './support/pubsub.ts';

// The ingest as Cloud Run runs it: `node services/ingest/src/server.ts` in a child process, aimed at
// the emulators, stopped with SIGTERM.

const serverPath = fileURLToPath(new URL('../src/server.ts', import.meta.url));
const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const projectId = uniqueProjectId('ingest-server');
const names = topology();
const sourcesFile = 'config/local-sources.json';
const hrSystemKey = localDevelopmentKey('hr-system');

interface RunningIngest {
  child: ChildProcess;
  url: string;
  /** Every JSON line the process wrote to standard output so far. */
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

const running: ChildProcess[] = [];

function launch(env: Record<string, string>): { child: ChildProcess; logs: Record<string, unknown>[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [serverPath], {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.push(child);
  const logs: Record<string, unknown>[] = [];
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, logs, exited };
}

async function startIngest(extraEnv: Record<string, string> = {}): Promise<RunningIngest> {
  const started = launch({ ...emulatorEnvironment(projectId), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SOURCES_FILE: sourcesFile, ...extraEnv });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const listening = started.logs.find((line) => typeof line.port === 'number' && String(line.message).startsWith('ingest listening'));
    if (listening !== undefined) return { ...started, url: `http://127.0.0.1:${listening.port as number}` };
    if (started.child.exitCode !== null) throw new Error(`ingest exited with code ${started.child.exitCode}: ${JSON.stringify(started.logs)}`);
    if (Date.now() > deadline) throw new Error(`ingest did not log that it listens within 15 s: ${JSON.stringify(started.logs)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sends a body in chunks without Content-Length, as a streaming client does. */
function postChunked(url: string, chunks: Buffer[]): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/cloudevents+json', 'x-api-key': hrSystemKey };
    const outgoing = request(`${url}/v1/events`, { method: 'POST', headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, connection: response.headers.connection }));
    });
    // The server may close the connection after its 413 while chunks are still being written.
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    for (const chunk of chunks) outgoing.write(chunk);
    outgoing.end();
  });
}

let admin: PubSub;

beforeAll(async () => {
  admin = new PubSub({ projectId, apiEndpoint: emulatorEnvironment(projectId).PUBSUB_EMULATOR_HOST });
  await provisionTopology({ projectId, topology: names, pushEndpoint: 'http://127.0.0.1:9/pubsub/push', pubsub: admin });
});

afterAll(async () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await admin?.close();
});

describe('ingest process', () => {
  it('serves, publishes and stops cleanly on SIGTERM', async () => {
    const ingest = await startIngest();
    expect(ingest.logs[0]).toMatchObject({ severity: 'INFO', topic: names.topic.name, projectId, sourcesFile, principals: ['hr-system', 'vendor-office', 'benchmark'] });

    const health = await fetch(`${ingest.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const response = await fetch(`${ingest.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', 'x-api-key': hrSystemKey },
      body: JSON.stringify(hiredEvent({ id: 'proc-1' })),
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe('/v1/events/proc-1');

    // Binary mode reads the ce-* headers through the Node adapter's own Headers class.
    const binary = await fetch(`${ingest.url}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': hrSystemKey,
        'ce-specversion': '1.0',
        'ce-id': 'proc%2F2',
        'ce-source': 'hr-system',
        'ce-type': 'hr.employee.hired',
      },
      body: JSON.stringify(hiredData({ personId: 'P-2002' })),
    });
    expect(binary.status).toBe(202);
    expect(binary.headers.get('location')).toBe('/v1/events/proc%2F2');

    const messages = await receiveMessages(admin.subscription(names.subscriptions.directory.name), 2);
    expect(messages.map((message) => message.attributes['ce-id']).sort()).toEqual(['proc-1', 'proc/2']);

    const stoppingAt = performance.now();
    ingest.child.kill('SIGTERM');
    const code = await ingest.exited;
    expect(code).toBe(0);
    expect(performance.now() - stoppingAt).toBeLessThan(10_000);
    const logMessages = ingest.logs.map((line) => line.message);
    expect(logMessages).toContain('ingest stopping on SIGTERM: closing the listener and finishing in-flight requests');
    expect(logMessages).toContain('ingest stopped');
    expect(ingest.logs.find((line) => line.path === '/v1/events')).toMatchObject({ status: 202, eventId: 'proc-1' });
  });

  it('chunked body over 1 MiB is 413', async () => {
    const ingest = await startIngest();
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const chunks = Array.from({ length: maxBodyBytes / chunk.length + 2 }, () => chunk);
    const response = await postChunked(ingest.url, chunks);

    expect(response.status).toBe(413);
    expect(response.connection).toBe('close');
    const problem = JSON.parse(response.body);
    expect(problem.type).toBe(ProblemType.payloadTooLarge);
    // The streamed bytes were counted: no Content-Length was there to check up front.
    expect(problem.detail).toContain(`exceeds ${maxBodyBytes} bytes`);
    ingest.child.kill('SIGTERM');
    expect(await ingest.exited).toBe(0);
  });

  it('SIGTERM lets an in-flight request finish', async () => {
    // Pub/Sub at a port where nothing listens, so the request is still waiting for its publish
    // timeout when SIGTERM arrives.
    const ingest = await startIngest({ PUBSUB_EMULATOR_HOST: `127.0.0.1:${await freePort()}`, PUBLISH_TIMEOUT_MS: '2500' });
    const pending = fetch(`${ingest.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', 'x-api-key': hrSystemKey },
      body: JSON.stringify(hiredEvent({ id: 'proc-inflight' })),
    });
    // Give the request time to reach the handler, so it is in flight rather than on an idle connection.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stoppingAt = performance.now();
    ingest.child.kill('SIGTERM');

    const response = await pending;
    expect(response.status).toBe(503);
    expect(response.headers.get('connection')).toBe('close');
    expect(response.headers.get('retry-after')).toBe('5');
    expect(performance.now() - stoppingAt).toBeGreaterThan(1000);

    expect(await ingest.exited).toBe(0);
    expect(performance.now() - stoppingAt).toBeLessThan(10_000);
    const stopped = ingest.logs.findIndex((line) => line.message === 'ingest stopped');
    const answered = ingest.logs.findIndex((line) => line.status === 503);
    expect(answered).toBeGreaterThan(-1);
    expect(stopped).toBeGreaterThan(answered);
  });

  it('invalid sources file fails at start with the entry', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ingest-sources-'));
    const path = join(directory, 'sources.json');
    writeFileSync(path, JSON.stringify({ principals: [{ name: 'vendor-office', sources: ['vendor-office'], types: ['hr.contractor.fired'], rateLimit: { eventsPerSecond: 1, burst: 1 } }] }));
    const { exited, logs } = launch({ ...emulatorEnvironment(projectId), PORT: '0', SOURCES_FILE: path });
    expect(await exited).toBe(1);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ severity: 'CRITICAL', sourcesFile: path });
    expect(logs[0]?.message).toBe(
      `Invalid sources file ${path}: principals[0] ("vendor-office"): "types": "hr.contractor.fired" is not an event type of the catalog (hr.contractor.engaged, hr.employee.hired).`,
    );
  });

  it('missing project fails at start with the fix', async () => {
    const { exited, logs } = launch({ ...emulatorEnvironment(projectId), GOOGLE_CLOUD_PROJECT: '', PORT: '0' });
    expect(await exited).toBe(1);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ severity: 'CRITICAL' });
    expect(logs[0]?.message).toContain('GOOGLE_CLOUD_PROJECT is not set; set it to the Google Cloud project id');
  });
});
