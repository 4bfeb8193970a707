import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataValidator, childTrace, loadCatalog, parseStructuredEvent, principalAttribute, toPubSubMessage } from '@hr-events/contract';
import { engagedEvent, hiredEvent, type StructuredEvent } from '../fixtures/events.ts';
import { localSourcesFile } from '../support/pipeline.ts';
import { reconcile } from './support/reconcile.ts';
import { saveLogs, startScenario, waitFor, type Scenario } from './support/scenario.ts';

// `npm run dead-letters` against the emulator. The pull worker is deployed with an outdated schema
// catalog that lacks hr.contractor.engaged, so it rejects those events as poison and Pub/Sub
// dead-letters them after 5 attempts, while onboarding, up to date, records them. The listing shows
// them as replayable, next to messages that are poison by design or break the source policy. After
// the fix (the pull worker restarted with the current catalog) the replay puts the chosen messages
// back on the HR topic: the directory records each once, and onboarding, which had recorded them
// already, logs duplicates and changes nothing. Messages that fail a check stay where they are
// unless --drop is given.
//
// The broken consumer is the pull worker because the Pub/Sub emulator (0.8.20) stops pushing on a
// push subscription with a retry policy when more than two messages fail at once: measured, five
// failing messages got three push attempts each and were never dead-lettered.

interface DeadLetterListing {
  messageId: string;
  eventId?: string;
  source?: string;
  type?: string;
  principal?: string;
  sourceSubscription?: string;
  deliveryAttempts?: number;
  problem?: { kind: string; reason: string; detail: string };
}

let scenario: Scenario;
let outdatedSchemas: string;
const catalog = loadCatalog();
const validator = new DataValidator(catalog);

beforeAll(async () => {
  // A schema folder without the contractor type, as an older build of the pull worker shipped.
  outdatedSchemas = mkdtempSync(join(tmpdir(), 'hr-events-outdated-schemas-'));
  mkdirSync(join(outdatedSchemas, 'types'));
  copyFileSync('services/contract/schemas/person.json', join(outdatedSchemas, 'person.json'));
  copyFileSync('services/contract/schemas/types/hr.employee.hired.json', join(outdatedSchemas, 'types/hr.employee.hired.json'));
  scenario = await startScenario('dead-letters', { pullWorkerEnv: { HR_EVENTS_SCHEMA_DIR: outdatedSchemas } });
});

afterAll(async () => {
  await scenario?.stop();
  rmSync(outdatedSchemas, { recursive: true, force: true });
});

/** Runs `npm run dead-letters -- <args>` against the scenario's emulator; resolves with the exit code and output. */
function deadLetters(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, GOOGLE_CLOUD_PROJECT: scenario.projectId, PUBSUB_EMULATOR_HOST: scenario.emulators.pubsub.host, SOURCES_FILE: localSourcesFile };
  return new Promise((resolvePromise) => {
    execFile(process.execPath, ['scripts/dead-letters.ts', ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolvePromise({ code: error === null ? 0 : Number((error as { code?: unknown }).code ?? 1), stdout, stderr });
    });
  });
}

async function listing(): Promise<DeadLetterListing[]> {
  const result = await deadLetters('list', '--json');
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as DeadLetterListing[];
}

/** Builds the message that the ingest would publish for `event`, with the principal attribute given (or none). */
function messageFor(event: StructuredEvent, principal: string | undefined) {
  const parsed = parseStructuredEvent(event, validator);
  if (parsed.event === undefined) throw new Error(`invalid fixture: ${JSON.stringify(parsed.problems)}`);
  const message = toPubSubMessage(parsed.event, catalog, childTrace(undefined).traceparent);
  if (principal !== undefined) message.attributes[principalAttribute] = principal;
  return message;
}

describe('dead-letter tool', () => {
  it('lists, replays after a fix and keeps invalid messages', async ({ onTestFailed }) => {
    onTestFailed(() => console.error(`Service logs: ${saveLogs(scenario, 'dead-letters')}`));
    const { pipeline, client, pubsub, topology: names } = scenario;
    const onboardingSubscription = names.subscriptions.onboarding.name;
    const directorySubscription = names.subscriptions.directory.name;

    // Four events of each type through the ingest; the directory cannot read the contractor ones.
    const hires = Array.from({ length: 4 }, () => hiredEvent());
    const engagements = Array.from({ length: 4 }, () => engagedEvent());
    const sent = await client.postAll([...hires, ...engagements], 4);
    expect(sent.every((record) => record.outcome === 'accepted')).toBe(true);

    // Poison by design on the HR topic: no ce-type, so both subscriptions dead-letter it.
    const poison = hiredEvent();
    const poisonMessage = messageFor(poison, 'hr-system');
    delete poisonMessage.attributes['ce-type'];
    await pubsub.topic(names.topic.name).publishMessage({ data: poisonMessage.data, attributes: poisonMessage.attributes });
    // Published straight to the dead-letter topic: an event its principal may not send, and one
    // that names no principal at all. A replay must not put either on the HR topic.
    const forged = hiredEvent();
    const anonymous = hiredEvent();
    await pubsub.topic(names.deadLetterTopic.name).publishMessage(messageFor(forged, 'vendor-office'));
    await pubsub.topic(names.deadLetterTopic.name).publishMessage(messageFor(anonymous, undefined));

    let entries: DeadLetterListing[] = [];
    await waitFor('8 messages on the dead-letter subscription', async () => (entries = await listing()).length >= 8, 90_000);
    const byEvent = (event: StructuredEvent) => entries.filter((entry) => entry.eventId === event.id);

    for (const event of engagements) {
      expect(byEvent(event), event.id).toEqual([
        {
          messageId: expect.any(String),
          eventId: event.id,
          source: 'vendor-office',
          type: 'hr.contractor.engaged',
          principal: 'benchmark',
          sourceSubscription: directorySubscription,
          deliveryAttempts: 5,
          deadLetteredAt: expect.any(String),
        },
      ]);
    }
    expect(byEvent(poison).map((entry) => entry.sourceSubscription).sort()).toEqual([directorySubscription, onboardingSubscription].sort());
    expect(byEvent(poison).map((entry) => entry.problem)).toEqual([
      { kind: 'poison', reason: 'missing-attribute', detail: 'message has no "ce-type" attribute' },
      { kind: 'poison', reason: 'missing-attribute', detail: 'message has no "ce-type" attribute' },
    ]);
    expect(byEvent(forged)[0]?.problem).toMatchObject({ kind: 'policy', reason: 'not-allowed', detail: expect.stringContaining('source "hr-system" is not allowed for "vendor-office"') });
    expect(byEvent(anonymous)[0]?.problem).toMatchObject({ kind: 'principal', reason: 'no-principal' });
    expect(entries).toHaveLength(8);

    // The text listing names every message with its reason.
    const text = await deadLetters('list');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^MESSAGE ID\s+EVENT ID\s+SOURCE\s+TYPE\s+FROM SUBSCRIPTION\s+ATTEMPTS\s+REASON$/m);
    expect(text.stdout).toContain('8 message(s), 4 replayable.');

    // The fix: the pull worker runs again with the current catalog.
    await pipeline.pullWorkers[0]!.stop();
    await pipeline.startPullWorker('pull-worker-1', { HR_EVENTS_SCHEMA_DIR: resolve('services/contract/schemas') });

    // Replay two chosen messages, then the rest: only the four valid ones go back.
    const chosen = engagements.slice(0, 2).map((event) => byEvent(event)[0]!.messageId);
    const first = await deadLetters('replay', ...chosen, '--json');
    expect(first.code, first.stderr).toBe(0);
    const firstReport = JSON.parse(first.stdout) as { replayed: DeadLetterListing[] };
    expect(firstReport).toMatchObject({ dropped: [], leftInPlace: [], notFound: [] });
    expect(firstReport.replayed.map((entry) => entry.messageId).sort()).toEqual([...chosen].sort());

    const missing = await deadLetters('replay', 'no-such-message');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('Not found on the dead-letter subscription: no-such-message.');

    const rest = await deadLetters('replay', '--all', '--json');
    const restReport = JSON.parse(rest.stdout) as { replayed: DeadLetterListing[]; leftInPlace: DeadLetterListing[] };
    expect(rest.code).toBe(1);
    expect(restReport.replayed.map((entry) => entry.eventId).sort()).toEqual(engagements.slice(2).map((event) => event.id).sort());
    expect(restReport.leftInPlace).toHaveLength(4);
    expect((await listing()).map((entry) => entry.eventId).sort()).toEqual([poison.id, poison.id, forged.id, anonymous.id].sort());

    const dropped = await deadLetters('replay', '--all', '--drop', '--json');
    expect(dropped.code).toBe(0);
    expect((JSON.parse(dropped.stdout) as { dropped: unknown[] }).dropped).toHaveLength(4);
    expect(await listing()).toEqual([]);

    const figures = await reconcile({
      scenario: 'dead-letters',
      title: 'The directory dead-letters a type it cannot read; replayed after the fix with npm run dead-letters',
      pipeline,
      topology: names,
      projectId: scenario.projectId,
      firestore: scenario.firestore,
      pubsub,
      sent: client.sent,
      poison: [{ id: poison.id, source: poison.source, copies: 0 }],
      startedAt: scenario.startedAt,
      extra: { listed: entries.length, replayable: 4, replayed: 4, leftInPlaceThenDropped: 4 },
    });
    expect(figures.problems).toEqual([]);

    // Replaying events that onboarding had already recorded changed nothing there, and the
    // directory recorded each once, after five rejections.
    const onboardingLines = pipeline.logs.get('push-consumer')!;
    const directoryLines = pipeline.logs.get('pull-worker-1')!;
    for (const event of engagements) {
      expect(onboardingLines.filter((line) => line.eventId === event.id).map((line) => line.outcome), event.id).toEqual(['processed', 'duplicate']);
      expect(directoryLines.filter((line) => line.eventId === event.id).map((line) => line.outcome), event.id).toEqual(['poison', 'poison', 'poison', 'poison', 'poison', 'processed']);
    }
    expect(figures.onboarding.recorded).toBe(8);
    expect(figures.directory.recorded).toBe(8);
  });
});
