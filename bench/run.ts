import './environment.ts';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAll } from './build.ts';
import { cleanUp } from './cleanup.ts';
import { runColdStartFigure } from './cold-start.ts';
import type { BenchContext } from './context.ts';
import { readBenchCredentials } from './credentials.ts';
import { runEndToEnd } from './end-to-end.ts';
import { round } from './latency.ts';
import { assembleResults, describeMachine, writeResults } from './report.ts';
import { settingsFor, type BenchMode } from './settings.ts';
import { runSpike } from './spike.ts';
import { startEmulators } from './stack.ts';
import { runThroughput, throughputServers, throughputVariants } from './throughput.ts';

// `npm run bench`: every figure of BENCHMARKS.md in one run on this machine, against emulators it
// starts itself, written to bench/results/latest.json and latest.md. `npm run bench -- --quick`
// runs each figure for about two seconds and writes bench/results/quick.json, to check that the
// script works. Ctrl-C or a failure stops everything the run started.

const usage = 'Usage: npm run bench [-- --quick] [-- --keep-logs]';

process.once('SIGINT', () => void stopAndExit(130));
process.once('SIGTERM', () => void stopAndExit(143));

const options = parseArguments(process.argv.slice(2));
let logDirectory: string | undefined;
try {
  await main(options.mode);
  await cleanUp();
  if (logDirectory !== undefined && !options.keepLogs) rmSync(logDirectory, { recursive: true, force: true });
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  if (logDirectory !== undefined) console.error(`The services' logs are in ${logDirectory}.`);
  await stopAndExit(1);
}

async function main(mode: BenchMode): Promise<void> {
  checkPlatform();
  const settings = settingsFor(mode);
  const machine = describeMachine();
  const credentials = readBenchCredentials();
  const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
  const durations: Record<string, number> = {};
  const loadAverageAtFigureStart: Record<string, number> = {};
  const timed = async <T>(figure: string, step: () => Promise<T>): Promise<T> => {
    loadAverageAtFigureStart[figure] = round(loadavg()[0] ?? 0);
    const startedAt = performance.now();
    const result = await step();
    durations[figure] = round((performance.now() - startedAt) / 1000, 1);
    return result;
  };

  log(`${mode} run: building the services and the baselines`);
  await timed('build', buildAll);
  logDirectory = mkdtempSync(join(tmpdir(), 'hr-events-bench-'));
  log(`starting the emulators; the services' logs go to ${logDirectory}`);
  const emulators = await timed('emulators', startEmulators);
  // The benchmark's own clients (provisioning, the Firestore listener) use the emulators too.
  process.env.PUBSUB_EMULATOR_HOST = emulators.pubsubHost;
  process.env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;

  const context: BenchContext = {
    settings,
    emulators,
    logDirectory,
    requestHeaders: credentials.headers,
    ingestEnvironment: credentials.ingestEnvironment,
    log,
  };
  log(`sources send as principal "benchmark" of config/local-sources.json, limited to ${credentials.eventsPerSecondLimit} events/s`);

  const { throughput, halfRate } = await timed('throughput', () => runThroughput(context, [...throughputServers(context), ...throughputVariants(context)]));
  const coldStart = await timed('coldStart', () => runColdStartFigure(context));
  const endToEnd = await timed('endToEnd', () => runEndToEnd(context));
  const spike = await timed('spike', () => runSpike(context));

  const results = assembleResults(settings, machine, { throughput, halfRate, coldStart, endToEnd, spike, durations, loadAverageAtFigureStart });
  const written = writeResults(results, mode === 'quick' ? 'quick' : 'latest', mode === 'full');
  for (const check of results.targets) log(`${check.isMet ? 'met    ' : 'not met'} ${check.figure}: ${check.measured} (target ${check.target})`);
  log(`wrote ${written.join(' and ')}`);
}

function parseArguments(args: string[]): { mode: BenchMode; keepLogs: boolean } {
  const unknown = args.filter((arg) => arg !== '--quick' && arg !== '--keep-logs');
  if (unknown.length > 0) {
    console.error(`Unknown argument ${unknown.join(' ')}. ${usage}`);
    process.exit(2);
  }
  return { mode: args.includes('--quick') ? 'quick' : 'full', keepLogs: args.includes('--keep-logs') };
}

function checkPlatform(): void {
  if (Number(process.versions.node.split('.')[0]) < 24) {
    throw new Error(`The benchmark needs Node.js 24 or newer, found ${process.version}.`);
  }
  if (!existsSync('/proc/self/stat')) {
    throw new Error('The benchmark reads CPU time and memory from /proc, so it runs on Linux only.');
  }
  if (!existsSync('package.json') || !existsSync('services/ingest')) {
    throw new Error('Run the benchmark from the repository root: npm run bench.');
  }
}

async function stopAndExit(code: number): Promise<never> {
  await cleanUp();
  process.exit(code);
}
