import { freePort } from '../scripts/lib/emulators.ts';
import { builtEntry, ingestVariants } from './build.ts';
import type { BenchContext } from './context.ts';
import { CpuAccount, type CpuShares } from './cpu-account.ts';
import { runIdPrefix } from './event-body.ts';
import { round } from './latency.ts';
import { runLoad, type LoadResult } from './load.ts';
import { cpuSeconds, peakRssMiB, resetPeakRss } from './process-stats.ts';
import { startProcess, type BenchProcess } from './processes.ts';
import { emulatorEnvironment, names, provisionTopicOnly } from './stack.ts';

// Figure 1: requests per second and latency of the ingest and its two baselines, each driven by
// closed-loop clients at every connection count in the same run, then the ingest's latency at half
// its best rate.

export const throughputProjectId = 'bench-throughput';

/** The build from before the benchmark work cannot sustain half the current build's rate, so it is left out of the half-rate latency. */
const halfRateSkipped = new Set(['ingest-before']);

export interface ServerDefinition {
  name: string;
  /** Node's arguments: flags, then the entry file. */
  nodeArgs: string[];
  env?: Record<string, string>;
}

export interface ThroughputMeasurement {
  /** 202 responses per second. */
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** Responses other than 202. */
  non2xx: number;
  statusCounts: Record<string, number>;
  accepted: number;
  seconds: number;
  cpuSeconds: number;
  /** Server CPU time (user + system) per 1,000 accepted events. */
  cpuSecondsPer1k: number;
  peakRssMiB: number;
  /** Cores used by each process during the measurement, and by anything else on the machine. */
  cpuShares: CpuShares;
  /** The `other` share of every round; the figures are those of the round with the lowest. */
  otherCoresByRound: number[];
}

export interface HalfRateMeasurement {
  targetRps: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  cpuShares: CpuShares;
}

export interface ThroughputResults {
  throughput: Record<string, Record<string, ThroughputMeasurement>>;
  /** By server: `ingest`, and the other builds of the ingest that ran, at the same rate. */
  halfRate: Record<string, HalfRateMeasurement>;
}

/** Returns the servers of the figure, each bundled the same way (see build.ts); `ingest` is the build `npm start` runs. */
export function throughputServers(context: BenchContext): ServerDefinition[] {
  return [
    { name: 'echo', nodeArgs: [builtEntry('echo')] },
    { name: 'ingest', nodeArgs: [builtEntry('ingest')], env: context.ingestEnvironment },
    { name: 'naive', nodeArgs: [builtEntry('naive')] },
  ];
}

/**
 * Node sizes the V8 heap from the memory it may use. Measured with Node 24 under RLIMIT_DATA limits
 * of 768 MiB to 2 GiB, the old generation gets half the limit and each semi-space 16 to 32 MiB; on
 * this machine it is 4 GiB and 64 MiB. These flags extrapolate that to Cloud Run's 512 MiB instance
 * (infra/components/run.ts). NOTE: an estimate, because V8 does not start under a 512 MiB RLIMIT_DATA.
 */
export const cloudRunHeapFlags = ['--max-old-space-size=256', '--max-semi-space-size=8'];

/**
 * Builds of the ingest measured beside it, to show what one change does in the same run (see
 * build.ts), and the built ingest with the heap of a 512 MiB instance.
 */
export function throughputVariants(context: BenchContext): ServerDefinition[] {
  const variants = [
    ...ingestVariants.filter((variant) => variant.coldStartOnly !== true).map((variant) => ({ name: variant.name, nodeArgs: [builtEntry(variant.name)], env: context.ingestEnvironment })),
    { name: 'ingest-heap-512mib', nodeArgs: [...cloudRunHeapFlags, builtEntry('ingest')], env: context.ingestEnvironment },
  ];
  const chosen = context.settings.throughput.variants;
  return chosen === undefined ? variants : variants.filter((variant) => chosen.includes(variant.name));
}

export async function runThroughput(context: BenchContext, servers: ServerDefinition[]): Promise<ThroughputResults> {
  const { settings } = context;
  await provisionTopicOnly(context.emulators, throughputProjectId);

  const running = new Map<string, BenchProcess>();
  try {
    for (const server of servers) running.set(server.name, await startServer(context, server));

    for (const [name, server] of running) {
      context.log(`throughput: warming up ${name} for ${settings.throughput.warmupSeconds} s`);
      await closedLoop(context, server, settings.throughput.connectionCounts[0] ?? 50, settings.throughput.warmupSeconds);
    }

    // Each connection count runs every server in turn, so a change in the machine's load during
    // the run affects all servers alike. Each round measures everything again, and the round in
    // which other work on the machine used the least CPU is kept.
    const throughput: Record<string, Record<string, ThroughputMeasurement>> = {};
    for (let round = 1; round <= settings.throughput.rounds; round += 1) {
      for (const connections of settings.throughput.connectionCounts) {
        for (const [name, server] of running) {
          const measurement = await measure(context, server, connections);
          const byConnections = (throughput[name] ??= {});
          const kept = byConnections[String(connections)];
          const otherCoresByRound = [...(kept?.otherCoresByRound ?? []), measurement.cpuShares.other];
          const isQuieter = kept === undefined || measurement.cpuShares.other < kept.cpuShares.other;
          byConnections[String(connections)] = { ...(isQuieter ? measurement : kept), otherCoresByRound };
          context.log(
            `throughput round ${round}: ${name} at ${connections} connections: ${measurement.rps} requests/s, p50 ${measurement.p50Ms} ms, p99 ${measurement.p99Ms} ms, ` +
              `${measurement.errors} errors, ${measurement.non2xx} non-202, ${measurement.cpuSecondsPer1k} CPU s per 1,000, peak RSS ${measurement.peakRssMiB} MiB; ` +
              `cores: ${describeShares(measurement.cpuShares)}`,
          );
        }
      }
    }

    // Half the ingest's best rate, offered to each build of the ingest in turn.
    const best = Math.max(...Object.values(throughput.ingest ?? {}).map((measurement) => measurement.rps));
    if (!Number.isFinite(best)) throw new Error('The throughput figure needs a server named "ingest" for the half-rate latency.');
    const targetRps = Math.max(1, Math.round(best / 2));
    const halfRate: Record<string, HalfRateMeasurement> = {};
    for (const [name, server] of running) {
      if (name.startsWith('ingest') && !halfRateSkipped.has(name)) halfRate[name] = await measureHalfRate(context, name, server, targetRps);
    }
    return { throughput, halfRate };
  } finally {
    await Promise.all([...running.values()].map((server) => server.stop()));
  }
}

async function startServer(context: BenchContext, server: ServerDefinition): Promise<BenchProcess> {
  const maxConnections = Math.max(...context.settings.throughput.connectionCounts);
  return startProcess({
    name: `throughput-${server.name}`,
    nodeArgs: server.nodeArgs,
    port: await freePort(),
    env: { ...emulatorEnvironment(context.emulators, throughputProjectId), TOPIC: names.topic.name, LOG_LEVEL: 'info', ...server.env },
    logDirectory: context.logDirectory,
    openFiles: maxConnections + 1_024,
  });
}

function closedLoop(context: BenchContext, server: BenchProcess, connections: number, seconds: number): Promise<LoadResult> {
  return runLoad(
    {
      kind: 'closed-loop',
      url: server.url,
      idPrefix: runIdPrefix(server.name),
      headers: context.requestHeaders,
      phases: [{ connections, seconds }],
      timeoutSeconds: context.settings.requestTimeoutSeconds,
    },
    { openFiles: connections + 1_024 },
  );
}

async function measure(context: BenchContext, server: BenchProcess, connections: number): Promise<ThroughputMeasurement> {
  resetPeakRss(server.pid);
  const account = new CpuAccount(context.emulators, server.pid);
  const cpuBefore = cpuSeconds(server.pid);
  const load = await closedLoop(context, server, connections, context.settings.throughput.seconds);
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  const cpuShares = account.close(load.cpuSeconds);
  return {
    rps: round(load.accepted / load.seconds, 0),
    p50Ms: load.latency.p50Ms,
    p90Ms: load.latency.p90Ms,
    p99Ms: load.latency.p99Ms,
    maxMs: load.latency.maxMs,
    errors: load.connectionErrors + load.timeouts,
    non2xx: load.answered - load.accepted,
    statusCounts: load.statusCounts,
    accepted: load.accepted,
    seconds: round(load.seconds),
    cpuSeconds: round(cpu),
    cpuSecondsPer1k: load.accepted === 0 ? 0 : round((cpu / load.accepted) * 1000, 3),
    peakRssMiB: round(peakRssMiB(server.pid), 1),
    cpuShares,
    otherCoresByRound: [],
  };
}

/** Measures paced load at `targetRps`: the latency a source gets while the ingest has headroom left. */
async function measureHalfRate(context: BenchContext, name: string, server: BenchProcess, targetRps: number): Promise<HalfRateMeasurement> {
  const { seconds, warmupSeconds, maxConnections } = context.settings.halfRate;
  const paced = (durationSeconds: number) =>
    runLoad(
      {
        kind: 'paced',
        url: server.url,
        idPrefix: runIdPrefix('half-rate'),
        headers: context.requestHeaders,
        ratePerSecond: targetRps,
        seconds: durationSeconds,
        maxConnections,
        timeoutSeconds: context.settings.requestTimeoutSeconds,
      },
      { openFiles: maxConnections + 1_024 },
    );
  // The previous measurement left the emulator busy with a heavier load; the warm-up lets it settle.
  await paced(warmupSeconds);
  const account = new CpuAccount(context.emulators, server.pid);
  const load = await paced(seconds);
  const measurement = {
    targetRps,
    rps: round(load.accepted / load.seconds, 0),
    p50Ms: load.latency.p50Ms,
    p99Ms: load.latency.p99Ms,
    errors: load.connectionErrors + load.timeouts,
    non2xx: load.answered - load.accepted,
    cpuShares: account.close(load.cpuSeconds),
  };
  context.log(`throughput: ${name} at ${targetRps} requests/s (half the ingest's best): p50 ${measurement.p50Ms} ms, p99 ${measurement.p99Ms} ms`);
  return measurement;
}

export function describeShares(shares: CpuShares): string {
  return `server ${shares.server}, load ${shares.loadGenerator}, emulators ${shares.emulators}, benchmark ${shares.benchmark}, other ${shares.other}, steal ${shares.steal}`;
}
