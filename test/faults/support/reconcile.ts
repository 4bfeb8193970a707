import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { collections, eventKey, type EventReceipt, type Topology } from '@hr-events/contract';
import { DeadLetterQueue } from '../../../scripts/lib/dead-letter-queue.ts';
import { outcomes, type LogLine, type Pipeline } from '../../support/pipeline.ts';
import type { SentEvent } from './traffic.ts';

// Ends every fault scenario: waits until the pipeline has settled, then checks what each request
// got back against what each consumer recorded in Firestore, what their logs report, and what
// reached the dead-letter topic. The rules:
// - an event that got a 202 is recorded once by each consumer, and is not dead-lettered. Its effect
//   shows as one `processed` or `stale` log line. Where no line could be written, it shows as a
//   receipt left by an attempt that the consumer could not confirm: a commit that timed out and
//   landed later, a commit whose response was lost at shutdown, or a commit just before a SIGKILL;
// - an event that got a 4xx is recorded by neither;
// - an event that got a 503 or no response may have been published, so each consumer recorded it
//   at most once;
// - a poison message published on purpose is on the dead-letter topic and recorded by neither.
// The figures of the run are written to test/faults/results/<scenario>.json for RELIABILITY.md.

export const consumers = {
  onboarding: 'push-consumer',
  directory: 'pull-worker',
} as const;
type Consumer = keyof typeof consumers;

export interface PoisonMessage {
  id: string;
  source: string;
  /** Copies expected on the dead-letter topic: one per subscription that gave up on it. */
  copies: number;
}

export interface ScenarioRun {
  /** File name of the figures, for example `pull-worker-sigkill`. */
  scenario: string;
  /** One line that describes the scenario, for RELIABILITY.md. */
  title: string;
  pipeline: Pipeline;
  topology: Topology;
  projectId: string;
  firestore: Firestore;
  pubsub: PubSub;
  sent: SentEvent[];
  poison?: PoisonMessage[];
  /** Milliseconds since the epoch at which the scenario began, for its duration. */
  startedAt: number;
  /**
   * A consumer process that the scenario killed with SIGKILL, and when. Its last log lines may be
   * lost: pino writes to standard output asynchronously, so an effect committed just before the kill
   * can have no log line. Such an event counts as recorded once when its receipt shows that this
   * consumer recorded it before the kill and no process logged a second effect.
   */
  killed?: { consumer: Consumer; at: number };
  /** Figures of this scenario only, such as the exit time after SIGTERM; a function is called once the pipeline has settled. */
  extra?: Record<string, unknown> | (() => Record<string, unknown>);
  /** How long to wait for every accepted event to be recorded by both consumers. */
  settleTimeoutMillis?: number;
  /** Called every 5 s while accepted events are still unrecorded, for a scenario that must help the emulator along. */
  whileWaiting?: () => Promise<void>;
}

export interface ConsumerFigures {
  /** Events of the scenario that the consumer recorded (receipt present). */
  recorded: number;
  /** Events that got a 503 or no response and were recorded all the same. */
  recordedWithout202: number;
  /** Deliveries the consumer handled, whatever their outcome. */
  deliveries: number;
  duplicates: number;
  retries: number;
}

export interface ScenarioFigures {
  scenario: string;
  title: string;
  ranAt: string;
  durationSeconds: number;
  sent: number;
  accepted: number;
  rejected: number;
  unavailable: number;
  unanswered: number;
  failed: number;
  onboarding: ConsumerFigures;
  directory: ConsumerFigures;
  /** Copies on the dead-letter topic at the end, and how many of them were of accepted events. */
  deadLettered: number;
  deadLetteredAccepted: number;
  poisonSent: number;
  /** Effects of attempts that could not confirm their commit (timed out, or the process stopped), found by a later delivery. */
  effectsOfUnconfirmedAttempts: number;
  /** Effects committed by a process just before its SIGKILL, whose log line was lost with it. */
  effectsWithoutLogLineBeforeKill: number;
  extra: Record<string, unknown>;
  problems: string[];
}

const quietMillis = 3_000;
const whileWaitingIntervalMillis = 5_000;

export async function reconcile(run: ScenarioRun): Promise<ScenarioFigures> {
  const accepted = run.sent.filter((record) => record.outcome === 'accepted');
  await waitForReceipts(run.firestore, accepted.map((record) => keyOf(record)), run.settleTimeoutMillis ?? 90_000, run.whileWaiting);
  await waitForQuiet(run.pipeline);
  const expectedDeadLetters = (run.poison ?? []).reduce((sum, poison) => sum + poison.copies, 0);
  const deadLetters = await drainDeadLetters(run, expectedDeadLetters);

  const problems: string[] = [];
  const receipts = await readReceipts(run.firestore, run.sent.map((record) => keyOf(record)));
  const onboardingKeys = await existingKeys(run.firestore, collections.onboarding, run.sent.map((record) => keyOf(record)));
  const effects = { onboarding: countEffects(run.pipeline, 'onboarding'), directory: countEffects(run.pipeline, 'directory') };
  const sentKeys = new Set(run.sent.map((record) => keyOf(record)));
  const poisonKeys = new Set((run.poison ?? []).map((poison) => eventKey(poison.source, poison.id)));
  // An effect without a log line comes from an attempt whose commit landed but was never confirmed
  // to the consumer: a commit that timed out, or whose response was lost when the process stopped.
  // A later delivery of the same event then logs a retry or finds the record (duplicate).
  const laterAttempts = {
    onboarding: countOutcomes(run.pipeline, 'onboarding', ['retry', 'duplicate']),
    directory: countOutcomes(run.pipeline, 'directory', ['retry', 'duplicate']),
  };
  const unconfirmed = { retried: 0, killed: 0 };

  for (const record of run.sent) {
    const key = keyOf(record);
    const label = `${record.event.id} (${record.outcome}, status ${record.status ?? 'none'})`;
    const receipt = receipts.get(key);
    const onboardingEffects = effects.onboarding.get(key) ?? 0;
    const directoryEffects = effects.directory.get(key) ?? 0;
    const deadLetterCopies = deadLetters.get(key) ?? 0;

    if (record.outcome === 'accepted') {
      if (receipt?.consumers.onboarding?.status !== 'processed') problems.push(`${label}: onboarding did not record it`);
      if (!onboardingKeys.has(key)) problems.push(`${label}: no onboarding record`);
      if (!['processed', 'stale'].includes(receipt?.consumers.directory?.status ?? '')) problems.push(`${label}: the directory did not record it`);
      for (const consumer of ['onboarding', 'directory'] as const) {
        const logged = effects[consumer].get(key) ?? 0;
        if (logged === 1) continue;
        if (logged === 0 && isRecordedBeforeKill(run, consumer, receipt)) {
          unconfirmed.killed += 1;
          continue;
        }
        if (logged === 0 && receipt?.consumers[consumer] !== undefined && (laterAttempts[consumer].get(key) ?? 0) > 0) {
          unconfirmed.retried += 1;
          continue;
        }
        problems.push(`${label}: ${consumer} logged ${logged} effects, expected 1`);
      }
      if (deadLetterCopies > 0) problems.push(`${label}: ${deadLetterCopies} copies on the dead-letter topic`);
    } else if (record.outcome === 'rejected') {
      if (receipt !== undefined || onboardingKeys.has(key)) problems.push(`${label}: recorded although rejected`);
      if (onboardingEffects + directoryEffects > 0) problems.push(`${label}: consumers logged effects although rejected`);
      if (deadLetterCopies > 0) problems.push(`${label}: on the dead-letter topic although rejected`);
    } else {
      if (record.outcome === 'failed') problems.push(`${label}: unexpected status`);
      if (onboardingEffects > 1 || directoryEffects > 1) problems.push(`${label}: recorded more than once (${onboardingEffects} onboarding, ${directoryEffects} directory)`);
      if (onboardingEffects === 1 && receipt?.consumers.onboarding === undefined) problems.push(`${label}: onboarding logged an effect without a receipt`);
      if (directoryEffects === 1 && receipt?.consumers.directory === undefined) problems.push(`${label}: the directory logged an effect without a receipt`);
      if (deadLetterCopies > 0) problems.push(`${label}: ${deadLetterCopies} copies on the dead-letter topic`);
    }
  }

  for (const poison of run.poison ?? []) {
    const key = eventKey(poison.source, poison.id);
    if ((deadLetters.get(key) ?? 0) !== poison.copies) problems.push(`poison ${poison.id}: ${deadLetters.get(key) ?? 0} dead-letter copies, expected ${poison.copies}`);
    if ((effects.onboarding.get(key) ?? 0) + (effects.directory.get(key) ?? 0) > 0) problems.push(`poison ${poison.id}: recorded by a consumer`);
  }
  for (const consumer of ['onboarding', 'directory'] as const) {
    for (const key of effects[consumer].keys()) {
      if (!sentKeys.has(key)) problems.push(`${consumer} recorded an event that the scenario never sent (key ${key})`);
    }
  }
  for (const key of deadLetters.keys()) {
    if (!sentKeys.has(key) && !poisonKeys.has(key)) problems.push(`a message the scenario never sent is on the dead-letter topic (key ${key})`);
  }
  const onboardingCount = (await run.firestore.collection(collections.onboarding).count().get()).data().count;
  if (onboardingCount !== onboardingKeys.size) problems.push(`the onboarding collection holds ${onboardingCount} records, but the scenario's events account for ${onboardingKeys.size}`);

  const figures: ScenarioFigures = {
    scenario: run.scenario,
    title: run.title,
    ranAt: new Date().toISOString(),
    durationSeconds: Math.round((Date.now() - run.startedAt) / 100) / 10,
    sent: run.sent.length,
    accepted: accepted.length,
    rejected: countOutcome(run.sent, 'rejected'),
    unavailable: countOutcome(run.sent, 'unavailable'),
    unanswered: countOutcome(run.sent, 'unanswered'),
    failed: countOutcome(run.sent, 'failed'),
    onboarding: consumerFigures(run, 'onboarding', receipts),
    directory: consumerFigures(run, 'directory', receipts),
    deadLettered: [...deadLetters.values()].reduce((sum, copies) => sum + copies, 0),
    deadLetteredAccepted: accepted.reduce((sum, record) => sum + (deadLetters.get(keyOf(record)) ?? 0), 0),
    poisonSent: run.poison?.length ?? 0,
    effectsOfUnconfirmedAttempts: unconfirmed.retried,
    effectsWithoutLogLineBeforeKill: unconfirmed.killed,
    extra: typeof run.extra === 'function' ? run.extra() : (run.extra ?? {}),
    problems,
  };
  writeFigures(figures);
  return figures;
}

function isRecordedBeforeKill(run: ScenarioRun, consumer: Consumer, receipt: EventReceipt | undefined): boolean {
  const recordedAt = receipt?.consumers[consumer]?.at;
  return run.killed?.consumer === consumer && recordedAt !== undefined && Date.parse(recordedAt) < run.killed.at;
}

function keyOf(record: SentEvent): string {
  return eventKey(record.event.source, record.event.id);
}

function countOutcome(sent: SentEvent[], outcome: SentEvent['outcome']): number {
  return sent.filter((record) => record.outcome === outcome).length;
}

function consumerFigures(run: ScenarioRun, consumer: Consumer, receipts: Map<string, EventReceipt>): ConsumerFigures {
  const lines = consumerLines(run.pipeline, consumer);
  const isRecorded = (record: SentEvent) => receipts.get(keyOf(record))?.consumers[consumer] !== undefined;
  return {
    recorded: run.sent.filter(isRecorded).length,
    recordedWithout202: run.sent.filter((record) => (record.outcome === 'unavailable' || record.outcome === 'unanswered') && isRecorded(record)).length,
    deliveries: lines.length,
    duplicates: lines.filter((line) => line.outcome === 'duplicate').length,
    retries: lines.filter((line) => line.outcome === 'retry').length,
  };
}

/** Outcome lines of a consumer's processes, with the injected-delay lines left out (they have no outcome). */
export function consumerLines(pipeline: Pipeline, consumer: Consumer): LogLine[] {
  return outcomes(pipeline, consumers[consumer]);
}

/** Effects per event key: the `processed` and `stale` outcomes, with which a consumer reports a change to its records. */
export function countEffects(pipeline: Pipeline, consumer: Consumer): Map<string, number> {
  return countOutcomes(pipeline, consumer, ['processed', 'stale']);
}

/** Log lines with one of `kinds` as outcome, per event key. */
export function countOutcomes(pipeline: Pipeline, consumer: Consumer, kinds: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of consumerLines(pipeline, consumer)) {
    if (!kinds.includes(String(line.outcome)) || line.eventId === undefined) continue;
    const key = eventKey(String(line.source), String(line.eventId));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

async function waitForReceipts(firestore: Firestore, keys: string[], timeoutMillis: number, whileWaiting?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  let pending = keys;
  let nextCall = Date.now() + whileWaitingIntervalMillis;
  while (pending.length > 0 && Date.now() < deadline) {
    if (whileWaiting !== undefined && Date.now() >= nextCall) {
      await whileWaiting();
      nextCall = Date.now() + whileWaitingIntervalMillis;
    }
    const receipts = await readReceipts(firestore, pending);
    pending = pending.filter((key) => {
      const recorded = receipts.get(key)?.consumers;
      return recorded?.onboarding === undefined || recorded.directory === undefined;
    });
    if (pending.length > 0) await sleep(500);
  }
}

/** Waits until no consumer has logged an outcome for `quietMillis`, so late redeliveries are counted. */
async function waitForQuiet(pipeline: Pipeline): Promise<void> {
  const count = () => consumerLines(pipeline, 'onboarding').length + consumerLines(pipeline, 'directory').length;
  let last = count();
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMillis) {
    await sleep(250);
    const now = count();
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    }
  }
}

/** Waits for the expected dead letters (up to 30 s), then pulls and acks everything there; returns copies per event key. */
async function drainDeadLetters(run: ScenarioRun, expected: number): Promise<Map<string, number>> {
  const queue = new DeadLetterQueue({
    pubsub: run.pubsub,
    projectId: run.projectId,
    subscriptionName: run.topology.subscriptions.deadLetter.name,
    topicName: run.topology.topic.name,
  });
  try {
    const deadline = Date.now() + 30_000;
    let messages = await queue.pullAll();
    while (messages.length < expected && Date.now() < deadline) {
      await queue.release(messages);
      await sleep(1_000);
      messages = await queue.pullAll();
    }
    await queue.ack(messages);
    const copies = new Map<string, number>();
    for (const message of messages) {
      const key = eventKey(message.attributes['ce-source'] ?? '', message.attributes['ce-id'] ?? '');
      copies.set(key, (copies.get(key) ?? 0) + 1);
    }
    return copies;
  } finally {
    await queue.close();
  }
}

async function readReceipts(firestore: Firestore, keys: string[]): Promise<Map<string, EventReceipt>> {
  const receipts = new Map<string, EventReceipt>();
  for (let start = 0; start < keys.length; start += 300) {
    const references = keys.slice(start, start + 300).map((key) => firestore.collection(collections.receipts).doc(key));
    if (references.length === 0) continue;
    for (const snapshot of await firestore.getAll(...references)) {
      if (snapshot.exists) receipts.set(snapshot.id, snapshot.data() as EventReceipt);
    }
  }
  return receipts;
}

async function existingKeys(firestore: Firestore, collection: string, keys: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let start = 0; start < keys.length; start += 300) {
    const references = keys.slice(start, start + 300).map((key) => firestore.collection(collection).doc(key));
    if (references.length === 0) continue;
    for (const snapshot of await firestore.getAll(...references)) if (snapshot.exists) found.add(snapshot.id);
  }
  return found;
}

function writeFigures(figures: ScenarioFigures): void {
  const directory = new URL('../results/', import.meta.url);
  mkdirSync(directory, { recursive: true });
  writeFileSync(new URL(`${figures.scenario}.json`, directory), `${JSON.stringify(figures, null, 2)}\n`);
}
