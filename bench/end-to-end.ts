import type { ConsumerName } from '@hr-events/contract';
import type { BenchContext } from './context.ts';
import { runIdPrefix } from './event-body.ts';
import { round, summarizeLatencies } from './latency.ts';
import { runLoad } from './load.ts';
import { startPipeline } from './pipeline.ts';
import { ReceiptWatcher } from './receipts.ts';

// Figure 3: the time from the ingest's 202 to both consumers having recorded the event, at a fixed
// rate well below saturation. "Recorded" is the commit of the later of the two receipt writes, read
// from the receipt's update time. Two more clocks bracket it: the later consumer's own `at`, set
// just before its write, and the moment the benchmark's Firestore listener delivered both records.

export const endToEndProjectId = 'bench-end-to-end';

export interface EndToEndResult {
  ratePerSecond: number;
  accepted: number;
  /** Accepted events that both consumers recorded before the timeout. */
  recorded: number;
  /** From the 202 to the commit of the later receipt write. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** From the 202 to the later consumer's `at`, set before its write. */
  consumerClockP50Ms: number;
  consumerClockP99Ms: number;
  /** From the 202 to the listener delivering both records. */
  listenerP50Ms: number;
  listenerP99Ms: number;
  /** From the 202 to the commit that first showed each consumer's entry. */
  byConsumer: Record<ConsumerName, { p50Ms: number; p99Ms: number }>;
  /** Responses other than 202, and the connection errors and timeouts, of the paced load. */
  non2xx: number;
  errors: number;
}

const drainTimeoutMillis = 60_000;

export async function runEndToEnd(context: BenchContext): Promise<EndToEndResult> {
  const { ratePerSecond, seconds, warmupSeconds, maxConnections } = context.settings.endToEnd;
  const pipeline = await startPipeline(context, endToEndProjectId);
  const watcher = new ReceiptWatcher(endToEndProjectId);
  const sendAndWait = async (label: string, durationSeconds: number) => {
    const load = await runLoad({
      kind: 'paced',
      url: pipeline.ingest.url,
      idPrefix: runIdPrefix(label),
      headers: context.requestHeaders,
      ratePerSecond,
      seconds: durationSeconds,
      maxConnections,
      timeoutSeconds: context.settings.requestTimeoutSeconds,
      recordAccepted: true,
    });
    let pending = load.acceptedEvents.map((event) => event.id);
    const isComplete = await watcher.waitUntil(() => {
      pending = pending.filter((id) => watcher.recordings.get(id)?.bothSeenAtMs === undefined);
      return pending.length === 0;
    }, drainTimeoutMillis);
    if (!isComplete) context.log(`end to end: ${pending.length} ${label} events were not recorded by both consumers within ${drainTimeoutMillis / 1000} s`);
    return load;
  };
  try {
    context.log(`end to end: warming up the pipeline with ${ratePerSecond} events/s for ${warmupSeconds} s`);
    await sendAndWait('e2e-warmup', warmupSeconds);
    context.log(`end to end: ${ratePerSecond} events/s for ${seconds} s through the whole pipeline`);
    const load = await sendAndWait('e2e', seconds);

    const committed: number[] = [];
    const consumerClock: number[] = [];
    const seen: number[] = [];
    const byConsumer: Record<ConsumerName, number[]> = { onboarding: [], directory: [] };
    for (const event of load.acceptedEvents) {
      const recording = watcher.recordings.get(event.id);
      if (recording?.bothSeenAtMs === undefined || recording.bothCommittedAtMs === undefined) continue;
      committed.push(recording.bothCommittedAtMs - event.acceptedAtMs);
      consumerClock.push(Math.max(recording.at.onboarding as number, recording.at.directory as number) - event.acceptedAtMs);
      seen.push(recording.bothSeenAtMs - event.acceptedAtMs);
      byConsumer.onboarding.push((recording.committedAt.onboarding as number) - event.acceptedAtMs);
      byConsumer.directory.push((recording.committedAt.directory as number) - event.acceptedAtMs);
    }

    const committedSummary = summarizeLatencies(committed);
    const consumerClockSummary = summarizeLatencies(consumerClock);
    const seenSummary = summarizeLatencies(seen);
    const consumerSummary = (values: number[]) => {
      const summary = summarizeLatencies(values);
      return { p50Ms: summary.p50Ms, p99Ms: summary.p99Ms };
    };
    const result: EndToEndResult = {
      ratePerSecond: round(load.accepted / load.seconds, 0),
      accepted: load.accepted,
      recorded: committed.length,
      p50Ms: committedSummary.p50Ms,
      p99Ms: committedSummary.p99Ms,
      maxMs: committedSummary.maxMs,
      consumerClockP50Ms: consumerClockSummary.p50Ms,
      consumerClockP99Ms: consumerClockSummary.p99Ms,
      listenerP50Ms: seenSummary.p50Ms,
      listenerP99Ms: seenSummary.p99Ms,
      byConsumer: { onboarding: consumerSummary(byConsumer.onboarding), directory: consumerSummary(byConsumer.directory) },
      non2xx: load.answered - load.accepted,
      errors: load.connectionErrors + load.timeouts,
    };
    context.log(
      `end to end: ${result.recorded} of ${result.accepted} events recorded by both consumers, committed after ${result.p50Ms} ms p50, ${result.p99Ms} ms p99 ` +
        `(consumer clock ${result.consumerClockP50Ms} / ${result.consumerClockP99Ms} ms, listener ${result.listenerP50Ms} / ${result.listenerP99Ms} ms)`,
    );
    return result;
  } finally {
    await watcher.stop();
    await pipeline.stop();
  }
}
