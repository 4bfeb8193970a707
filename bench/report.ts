import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import type { ColdStartFigure } from './cold-start.ts';
import type { EndToEndResult } from './end-to-end.ts';
import { round } from './latency.ts';
import type { BenchSettings } from './settings.ts';
import type { SpikeResult } from './spike.ts';
import type { HalfRateMeasurement, ThroughputMeasurement } from './throughput.ts';

// Writes bench/results/<name>.json and, for the full run, <name>.md: the machine, the settings,
// every figure, and each target with the value measured.

export interface Machine {
  cpuModel: string;
  cpuCount: number;
  memoryGiB: number;
  os: string;
  /** 1, 5 and 15-minute load averages: other work on the machine skews every figure. */
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
}

export interface BenchResults {
  mode: BenchSettings['mode'];
  date: string;
  node: string;
  machine: Machine;
  settings: BenchSettings;
  /** By server, then by connection count. */
  throughput: Record<string, Record<string, ThroughputMeasurement>>;
  ratios: { ingestToEcho50: number; ingestToEcho256: number; ingestToNaive50: number; ingestToNaive256: number };
  halfRateP99Ms: number;
  /** By build of the ingest, all at half the best rate of `ingest`. */
  halfRate: Record<string, HalfRateMeasurement>;
  coldStart: ColdStartFigure;
  endToEnd: EndToEndResult;
  spike: SpikeResult;
  /** Seconds each figure took, including its set-up. */
  durations: Record<string, number>;
  /** The machine's 1-minute load average as each figure started. */
  loadAverageAtFigureStart: Record<string, number>;
  targets: TargetCheck[];
}

export interface TargetCheck {
  figure: string;
  target: string;
  measured: string;
  isMet: boolean;
}

export type MeasuredFigures = Pick<BenchResults, 'throughput' | 'halfRate' | 'coldStart' | 'endToEnd' | 'spike' | 'durations' | 'loadAverageAtFigureStart'>;

/** Puts the figures together with the run's context, the ratios and the target checks. */
export function assembleResults(settings: BenchSettings, machine: Machine, figures: MeasuredFigures): BenchResults {
  const rps = (server: string, connections: number) => figures.throughput[server]?.[String(connections)]?.rps;
  const results: Omit<BenchResults, 'targets'> = {
    mode: settings.mode,
    date: new Date().toISOString(),
    node: process.version,
    machine: { ...machine, loadAverageAtEnd: loadavg().map((value) => round(value)) },
    settings,
    ratios: {
      ingestToEcho50: ratio(rps('ingest', 50), rps('echo', 50)),
      ingestToEcho256: ratio(rps('ingest', 256), rps('echo', 256)),
      ingestToNaive50: ratio(rps('ingest', 50), rps('naive', 50)),
      ingestToNaive256: ratio(rps('ingest', 256), rps('naive', 256)),
    },
    halfRateP99Ms: figures.halfRate.ingest?.p99Ms ?? 0,
    ...figures,
  };
  return { ...results, targets: checkTargets(results) };
}

export function describeMachine(): Machine {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model ?? 'unknown',
    cpuCount: processors.length,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    os: `${type()} ${release()}`,
    loadAverageAtStart: loadavg().map((value) => round(value)),
  };
}

export function ratio(numerator: number | undefined, denominator: number | undefined): number {
  if (numerator === undefined || denominator === undefined || denominator === 0) return 0;
  return round(numerator / denominator, 3);
}

export function checkTargets(results: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const { ratios, coldStart, endToEnd, spike } = results;
  const ingest256 = results.throughput.ingest?.['256'];
  const isSpikeClean = spike.edgeErrors === 0 && spike.lost.onboarding === 0 && spike.lost.directory === 0;
  const isRecordedOnce =
    spike.onboardingRecords === spike.receipts.onboarding &&
    spike.directoryPeople === spike.receipts.directory &&
    spike.rerecorded.onboarding === 0 &&
    spike.rerecorded.directory === 0;
  return [
    { figure: 'ingest/echo requests per second at 256 connections', target: '≥ 0.6', measured: String(ratios.ingestToEcho256), isMet: ratios.ingestToEcho256 >= 0.6 },
    { figure: 'ingest p99 at half its maximum rate', target: '≤ 20 ms', measured: `${results.halfRateP99Ms} ms`, isMet: results.halfRateP99Ms <= 20 },
    { figure: 'start to listening (median)', target: '≤ 100 ms', measured: `${coldStart.listenMsMedian} ms (max ${coldStart.listenMsMax})`, isMet: coldStart.listenMsMedian <= 100 },
    {
      figure: 'start to first confirmed 202 (median)',
      target: '≤ 300 ms',
      measured: `${coldStart.firstAcceptMsMedian} ms (max ${coldStart.firstAcceptMsMax})`,
      isMet: coldStart.firstAcceptMsMedian <= 300,
    },
    { figure: 'end to end p50', target: '≤ 100 ms', measured: `${endToEnd.p50Ms} ms`, isMet: endToEnd.p50Ms <= 100 },
    {
      figure: 'spike',
      target: '0 errors at the edge, 0 lost, every event recorded once per consumer',
      measured:
        `${spike.edgeErrors} edge errors, ${spike.accepted} accepted, ${spike.recordedOnboarding} onboarding and ${spike.recordedDirectory} directory records, ` +
        `${spike.lost.onboarding + spike.lost.directory} lost`,
      isMet: isSpikeClean && isRecordedOnce,
    },
    {
      figure: 'ingest peak RSS under the 256-connection load',
      target: '≤ 128 MiB',
      measured: `${ingest256?.peakRssMiB ?? 'n/a'} MiB`,
      isMet: (ingest256?.peakRssMiB ?? Number.POSITIVE_INFINITY) <= 128,
    },
  ];
}

export function writeResults(results: BenchResults, name: string, withMarkdown: boolean): string[] {
  mkdirSync('bench/results', { recursive: true });
  const written = [`bench/results/${name}.json`];
  writeFileSync(written[0] as string, `${JSON.stringify(results, null, 2)}\n`);
  if (withMarkdown) {
    written.push(`bench/results/${name}.md`);
    writeFileSync(written[1] as string, renderMarkdown(results));
  }
  return written;
}

function renderMarkdown(results: BenchResults): string {
  const { machine, settings } = results;
  const lines: string[] = [
    `# Benchmark results (${results.mode} run)`,
    '',
    `Written by \`npm run bench\` on ${results.date}. Node ${results.node}; ${machine.cpuCount} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}. ` +
      `Load average at start ${machine.loadAverageAtStart.join(' / ')}, at end ${machine.loadAverageAtEnd?.join(' / ') ?? 'n/a'}. ` +
      'Everything runs on this one machine: the emulators, the servers and the load generator share its cores.',
    '',
    '## Targets',
    '',
    '| figure | target | measured | met |',
    '| --- | --- | --- | --- |',
    ...results.targets.map((check) => `| ${check.figure} | ${check.target} | ${check.measured} | ${check.isMet ? 'yes' : 'no'} |`),
    '',
    `## Throughput and latency (${settings.throughput.seconds} s per measurement, closed-loop clients, the quieter of ${settings.throughput.rounds} rounds)`,
    '',
    '"Cores" is the average number of cores each process used during the measurement: the server, the load generator, the emulators, ' +
      'and everything else on the machine (other work slows every figure). Each row is the round in which that last share was lowest.',
    '',
    '| server | connections | requests/s | p50 ms | p99 ms | errors | non-202 | CPU s per 1,000 | peak RSS MiB | cores: server / load / emulators / other |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [server, byConnections] of Object.entries(results.throughput)) {
    for (const [connections, m] of Object.entries(byConnections)) {
      const shares = `${m.cpuShares.server} / ${m.cpuShares.loadGenerator} / ${m.cpuShares.emulators} / ${m.cpuShares.other}`;
      lines.push(`| ${server} | ${connections} | ${m.rps} | ${m.p50Ms} | ${m.p99Ms} | ${m.errors} | ${m.non2xx} | ${m.cpuSecondsPer1k} | ${m.peakRssMiB} | ${shares} |`);
    }
  }
  const { ratios, halfRate, coldStart, endToEnd, spike } = results;
  lines.push(
    '',
    `Ratios: ingest/echo ${ratios.ingestToEcho50} at 50 and ${ratios.ingestToEcho256} at 256 connections; ingest/naive ${ratios.ingestToNaive50} and ${ratios.ingestToNaive256}.`,
    '',
    `At half the ingest's best rate (paced for ${settings.halfRate.seconds} s after ${settings.halfRate.warmupSeconds} s of warm-up, latency from each request's scheduled start):`,
    '',
    '| server | requests/s | p50 ms | p99 ms | errors | non-202 | cores: server / load / emulators / other |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...Object.entries(halfRate).map(
      ([server, m]) =>
        `| ${server} | ${m.rps} | ${m.p50Ms} | ${m.p99Ms} | ${m.errors} | ${m.non2xx} | ` +
        `${m.cpuShares.server} / ${m.cpuShares.loadGenerator} / ${m.cpuShares.emulators} / ${m.cpuShares.other} |`,
    ),
    '',
    `## Cold start (${coldStart.starts} starts each)`,
    '',
    '| variant | to listening, median ms | max ms | to first 202, median ms | max ms |',
    '| --- | --- | --- | --- | --- |',
    `| bundled | ${coldStart.listenMsMedian} | ${coldStart.listenMsMax} | ${coldStart.firstAcceptMsMedian} | ${coldStart.firstAcceptMsMax} |`,
    ...Object.entries(coldStart.variants).map(([name, v]) => `| ${name} | ${v.listenMsMedian} | ${v.listenMsMax} | ${v.firstAcceptMsMedian} | ${v.firstAcceptMsMax} |`),
    '',
    `## End to end (${endToEnd.ratePerSecond} events/s for ${settings.endToEnd.seconds} s)`,
    '',
    `${endToEnd.recorded} of ${endToEnd.accepted} accepted events recorded by both consumers. From the 202 to the commit of the later receipt write ` +
      `(the receipt's update time): p50 ${endToEnd.p50Ms} ms, p99 ${endToEnd.p99Ms} ms (onboarding p50 ${endToEnd.byConsumer.onboarding.p50Ms} ms, ` +
      `directory p50 ${endToEnd.byConsumer.directory.p50Ms} ms). To the later consumer's own \`at\`: p50 ${endToEnd.consumerClockP50Ms} ms, p99 ${endToEnd.consumerClockP99Ms} ms. ` +
      `To a Firestore listener in the benchmark delivering both: p50 ${endToEnd.listenerP50Ms} ms, p99 ${endToEnd.listenerP99Ms} ms.`,
    '',
    `## Spike (each client sends at most ${spike.requestsPerClientPerSecond} event/s)`,
    '',
    '| clients | seconds | accepted | responses by status | connection errors | timeouts |',
    '| --- | --- | --- | --- | --- | --- |',
    ...spike.phases.map(
      (phase) =>
        `| ${phase.connections} | ${phase.seconds} | ${phase.accepted} | ${Object.entries(phase.statusCounts)
          .map(([status, count]) => `${status}: ${count}`)
          .join(', ')} | ${phase.connectionErrors} | ${phase.timeouts} |`,
    ),
    '',
    `Edge errors ${spike.edgeErrors} (5xx ${spike.serverErrors}, connection errors ${spike.connectionErrors}, timeouts ${spike.timeouts}); 429 ${spike.rateLimited}. ` +
      `Accepted ${spike.accepted}; recorded by onboarding ${spike.recordedOnboarding}, by directory ${spike.recordedDirectory}; ` +
      `recorded without a 202 ${spike.recordedWithoutAccept}; onboarding records ${spike.onboardingRecords} for ${spike.receipts.onboarding} receipts, ` +
      `directory people ${spike.directoryPeople} for ${spike.receipts.directory} receipts; receipts rewritten ${spike.rerecorded.onboarding + spike.rerecorded.directory}. ` +
      `Peak backlog ${spike.peakBacklog} (onboarding ${spike.peakBacklogByConsumer.onboarding}, directory ${spike.peakBacklogByConsumer.directory}); ` +
      `drained ${spike.drainSeconds ?? 'not within the timeout'} s after the load (onboarding ${spike.drainSecondsByConsumer.onboarding ?? 'n/a'} s at ` +
      `${spike.drainRatePerSecond.onboarding ?? 'n/a'} records/s, directory ${spike.drainSecondsByConsumer.directory ?? 'n/a'} s at ${spike.drainRatePerSecond.directory ?? 'n/a'} records/s). ` +
      `Open-file limit ${spike.openFileLimit}. The ingest's peak RSS over the figure: ${spike.ingestPeakRssMiB} MiB.`,
    '',
    `Figure durations in seconds (and the 1-minute load average as each started): ${Object.entries(results.durations)
      .map(([figure, seconds]) => `${figure} ${seconds} (${results.loadAverageAtFigureStart[figure] ?? 'n/a'})`)
      .join(', ')}.`,
    '',
  );
  return lines.join('\n');
}
