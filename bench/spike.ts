import { collections, type ConsumerName } from '@hr-events/contract';
import type { BenchContext } from './context.ts';
import { runIdPrefix } from './event-body.ts';
import { round } from './latency.ts';
import { runLoad, type LoadCounts } from './load.ts';
import { openFileLimits } from './open-files.ts';
import { startPipeline } from './pipeline.ts';
import { peakRssMiB } from './process-stats.ts';
import { ReceiptWatcher } from './receipts.ts';

// Figure 4: the spike the edge exists to absorb. Clients connect in phases (100, then thousands,
// then 100 again), each sending at most a set number of events per second and waiting for each
// response. Then the consumers drain the backlog, and every accepted event must be recorded once by
// each of them. The emulator pushes at most two requests at a time, so the push path drains at
// the rate measured here, not at production speed.
//
// Cloud Run sends an instance at most its concurrency setting (80 by default in infra/), while here
// every client reaches one process, so this spike is harder on one ingest than production would be.

export const spikeProjectId = 'bench-spike';

const consumers: ConsumerName[] = ['onboarding', 'directory'];
const sampleIntervalMillis = 250;

export interface SpikePhaseResult extends LoadCounts {
  connections: number;
}

export interface SpikeResult {
  phases: SpikePhaseResult[];
  requestsPerClientPerSecond: number;
  /** 5xx responses, connection errors and timeouts; the target is 0. */
  edgeErrors: number;
  serverErrors: number;
  connectionErrors: number;
  timeouts: number;
  /** 429 responses, counted apart from errors, because the benchmark's principal has a limit far above this load. */
  rateLimited: number;
  /** Other responses that are neither 202, 429 nor 5xx. */
  otherNon2xx: number;
  accepted: number;
  /** Accepted events that each consumer recorded. */
  recordedOnboarding: number;
  recordedDirectory: number;
  /** Accepted events a consumer had not recorded when the drain ended. */
  lost: Record<ConsumerName, number>;
  /** Events recorded without a 202: published, but their request got another response or none. */
  recordedWithoutAccept: number;
  /**
   * Once per consumer: the onboarding records and directory people (one person per event here) that
   * the consumers wrote, to compare with the receipts, and the receipts rewritten with a new time.
   */
  onboardingRecords: number;
  directoryPeople: number;
  receipts: Record<ConsumerName, number>;
  rerecorded: Record<ConsumerName, number>;
  /** Most accepted events not yet recorded by a consumer, sampled every 250 ms. */
  peakBacklog: number;
  peakBacklogByConsumer: Record<ConsumerName, number>;
  /** From the end of the load until both consumers had recorded every accepted event; null on timeout. */
  drainSeconds: number | null;
  drainSecondsByConsumer: Record<ConsumerName, number | null>;
  /** Records per second while a consumer still had a backlog after the load. */
  drainRatePerSecond: Record<ConsumerName, number | null>;
  openFileLimit: number;
  /** Peak RSS of the pipeline's ingest over the whole figure. */
  ingestPeakRssMiB: number;
}

export async function runSpike(context: BenchContext): Promise<SpikeResult> {
  const { phases, requestsPerClientPerSecond, drainTimeoutSeconds } = context.settings.spike;
  const maxConnections = Math.max(...phases.map((phase) => phase.connections));
  const openFiles = maxConnections + 1_024;
  const limits = openFileLimits();
  context.log(`spike: open-file limit ${limits.soft} (hard ${limits.hard}); the load worker and the ingest each need about ${openFiles}`);

  const pipeline = await startPipeline(context, spikeProjectId, { ingestOpenFiles: openFiles });
  const watcher = new ReceiptWatcher(spikeProjectId);
  try {
    let acceptedSoFar = 0;
    const peakBacklogByConsumer: Record<ConsumerName, number> = { onboarding: 0, directory: 0 };
    const sampler = setInterval(() => {
      for (const consumer of consumers) peakBacklogByConsumer[consumer] = Math.max(peakBacklogByConsumer[consumer], acceptedSoFar - watcher.counts[consumer]);
    }, sampleIntervalMillis);

    context.log(`spike: ${phases.map((phase) => `${phase.connections} clients for ${phase.seconds} s`).join(', then ')}, each sending at most ${requestsPerClientPerSecond} event/s`);
    const load = await runLoad(
      {
        kind: 'clients',
        url: pipeline.ingest.url,
        idPrefix: runIdPrefix('spike'),
        headers: context.requestHeaders,
        phases,
        requestsPerClientPerSecond,
        timeoutSeconds: context.settings.requestTimeoutSeconds,
        recordAccepted: true,
        progressIntervalMillis: sampleIntervalMillis,
      },
      { openFiles, onProgress: (progress) => (acceptedSoFar = progress.accepted) },
    );
    acceptedSoFar = load.accepted;
    const loadEndedAt = performance.now();

    // Each consumer's list of accepted events it has not recorded yet, shrinking as records arrive.
    const missing: Record<ConsumerName, string[]> = { onboarding: load.acceptedEvents.map((event) => event.id), directory: load.acceptedEvents.map((event) => event.id) };
    const countsAtLoadEnd = { ...watcher.counts };
    const doneAt: Record<ConsumerName, number | undefined> = { onboarding: undefined, directory: undefined };
    const isDrained = () => {
      for (const consumer of consumers) {
        missing[consumer] = missing[consumer].filter((id) => watcher.recordings.get(id)?.at[consumer] === undefined);
        if (missing[consumer].length === 0) doneAt[consumer] ??= performance.now();
      }
      return consumers.every((consumer) => missing[consumer].length === 0);
    };
    context.log(`spike: ${load.accepted} events accepted; waiting up to ${drainTimeoutSeconds} s for the consumers to drain`);
    const isComplete = await watcher.waitUntil(isDrained, drainTimeoutSeconds * 1000);
    clearInterval(sampler);
    const drainEndedAt = performance.now();

    const result = summarize(context, load.phases, load.accepted, watcher, missing, doneAt, countsAtLoadEnd, loadEndedAt, drainEndedAt, isComplete);
    const [onboardingRecords, directoryPeople] = await Promise.all([countDocuments(watcher, collections.onboarding), countDocuments(watcher, collections.people)]);
    const ingestPeakRssMiB = round(peakRssMiB(pipeline.ingest.pid), 1);
    const accepted = new Set(load.acceptedEvents.map((event) => event.id));
    const recordedWithoutAccept = [...watcher.recordings.keys()].filter((id) => !accepted.has(id)).length;
    const spike: SpikeResult = {
      ...result,
      recordedWithoutAccept,
      onboardingRecords,
      directoryPeople,
      receipts: { ...watcher.counts },
      rerecorded: { ...watcher.rerecorded },
      peakBacklog: Math.max(...Object.values(peakBacklogByConsumer)),
      peakBacklogByConsumer,
      openFileLimit: limits.soft,
      ingestPeakRssMiB,
    };
    context.log(
      `spike: ${spike.edgeErrors} edge errors, ${spike.rateLimited} responses 429, ${spike.accepted} accepted; recorded ${spike.recordedOnboarding} by onboarding, ` +
        `${spike.recordedDirectory} by directory; peak backlog ${spike.peakBacklog}; drained in ${spike.drainSeconds ?? 'more than ' + drainTimeoutSeconds} s`,
    );
    return spike;
  } finally {
    await watcher.stop();
    await pipeline.stop();
  }
}

function summarize(
  context: BenchContext,
  loadPhases: LoadCounts[],
  accepted: number,
  watcher: ReceiptWatcher,
  missing: Record<ConsumerName, string[]>,
  doneAt: Record<ConsumerName, number | undefined>,
  countsAtLoadEnd: Record<ConsumerName, number>,
  loadEndedAt: number,
  drainEndedAt: number,
  isComplete: boolean,
): Omit<
  SpikeResult,
  | 'recordedWithoutAccept'
  | 'onboardingRecords'
  | 'directoryPeople'
  | 'receipts'
  | 'rerecorded'
  | 'peakBacklog'
  | 'peakBacklogByConsumer'
  | 'openFileLimit'
  | 'ingestPeakRssMiB'
> {
  const { phases, requestsPerClientPerSecond } = context.settings.spike;
  const statusTotal = (predicate: (status: number) => boolean) =>
    loadPhases.reduce((sum, phase) => sum + Object.entries(phase.statusCounts).reduce((count, [status, n]) => count + (predicate(Number(status)) ? n : 0), 0), 0);
  const serverErrors = statusTotal((status) => status >= 500);
  const rateLimited = statusTotal((status) => status === 429);
  const otherNon2xx = statusTotal((status) => status !== 202 && status !== 429 && status < 500);
  const connectionErrors = loadPhases.reduce((sum, phase) => sum + phase.connectionErrors, 0);
  const timeouts = loadPhases.reduce((sum, phase) => sum + phase.timeouts, 0);

  const secondsAfterLoad = (at: number | undefined) => (at === undefined ? null : round(Math.max(0, at - loadEndedAt) / 1000, 1));
  const drainRate = (consumer: ConsumerName) => {
    const end = doneAt[consumer] ?? drainEndedAt;
    const recordedAfterLoad = watcher.counts[consumer] - countsAtLoadEnd[consumer];
    const seconds = (end - loadEndedAt) / 1000;
    return recordedAfterLoad > 0 && seconds > 0 ? round(recordedAfterLoad / seconds, 0) : null;
  };
  return {
    phases: loadPhases.map((phase, index) => ({ ...phase, connections: phases[index]?.connections ?? 0, seconds: round(phase.seconds, 1) })),
    requestsPerClientPerSecond,
    edgeErrors: serverErrors + connectionErrors + timeouts,
    serverErrors,
    connectionErrors,
    timeouts,
    rateLimited,
    otherNon2xx,
    accepted,
    recordedOnboarding: accepted - missing.onboarding.length,
    recordedDirectory: accepted - missing.directory.length,
    lost: { onboarding: missing.onboarding.length, directory: missing.directory.length },
    drainSeconds: isComplete ? secondsAfterLoad(drainEndedAt) : null,
    drainSecondsByConsumer: { onboarding: secondsAfterLoad(doneAt.onboarding), directory: secondsAfterLoad(doneAt.directory) },
    drainRatePerSecond: { onboarding: drainRate('onboarding'), directory: drainRate('directory') },
  };
}

async function countDocuments(watcher: ReceiptWatcher, collection: string): Promise<number> {
  const snapshot = await watcher.firestore.collection(collection).count().get();
  return snapshot.data().count;
}
