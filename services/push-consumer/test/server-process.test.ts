import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Firestore } from '@google-cloud/firestore';
import { afterAll, describe, expect, it } from 'vitest';
import { collections, eventKey } from '@hr-events/contract';
import { freePort } from '../../../scripts/lib/emulators.ts';
import { startService } from '../../../scripts/lib/processes.ts';
import { hiredEvent } from '../../../test/fixtures/events.ts';
import { emulatorEnvironment, uniqueProjectId } from '../../../test/support/project.ts';
import { encodeEvent, wrappedPushBody } from './support/push.ts';

// The built service as a process (dist/push-consumer/server.mjs, built by the test setup): its
// settings check at start and its shutdown, which must let an in-flight push request finish.

const entry = 'dist/push-consumer/server.mjs';
const projectId = uniqueProjectId('push-proc');
const firestore = new Firestore({ projectId });

afterAll(async () => {
  await firestore.terminate();
});

describe('push consumer process', () => {
  it('refuses disabled authentication outside the emulator', () => {
    const result = spawnSync(process.execPath, [entry], {
      env: { PATH: process.env.PATH, GOOGLE_CLOUD_PROJECT: projectId, METADATA_SERVER_DETECTION: 'none', PUSH_AUTHENTICATION: 'disabled' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(1);
    const line = JSON.parse(result.stdout.trim().split('\n')[0] as string) as { severity: string; message: string };
    expect(line.severity).toBe('CRITICAL');
    expect(line.message).toContain('PUSH_AUTHENTICATION=disabled is only allowed with the Pub/Sub emulator');
  });

  it('finishes an in-flight push on SIGTERM, then exits', async () => {
    const output: string[] = [];
    const port = await freePort();
    const service = await startService({
      name: 'push-consumer',
      entry,
      port,
      env: { ...emulatorEnvironment(projectId), PUSH_AUTHENTICATION: 'disabled', LOG_LEVEL: 'info' },
      onOutput: (line) => output.push(line),
    });
    const { event, message } = encodeEvent(hiredEvent());
    const body = JSON.stringify(wrappedPushBody(message));
    let signalledAt = 0;

    // Send half the body, stop the service, then send the rest: the request is in flight throughout.
    const pending = new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
      const outgoing = request({ host: '127.0.0.1', port, path: '/pubsub/push', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode, body: text }));
      });
      outgoing.on('error', reject);
      outgoing.write(body.slice(0, 100));
      void sleep(300).then(() => {
        signalledAt = Date.now();
        service.process.kill('SIGTERM');
        return sleep(500);
      }).then(() => outgoing.end(body.slice(100)));
    });

    const response = await pending;
    const exitCode = await service.exited;
    const stopMillis = Date.now() - signalledAt;

    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ outcome: 'processed', eventId: event.id });
    expect(exitCode).toBe(0);
    expect(stopMillis).toBeLessThan(10_000);
    expect((await firestore.collection(collections.onboarding).doc(eventKey(event.source, event.id)).get()).exists).toBe(true);
    const messages = output.map((line) => (JSON.parse(line) as { message: string }).message);
    expect(messages).toEqual(expect.arrayContaining([expect.stringContaining('Push authentication is disabled'), 'Onboarding record created.', 'Push consumer stopped.']));
    expect(messages.indexOf('Onboarding record created.')).toBeLessThan(messages.indexOf('Push consumer stopped.'));
  });
});
