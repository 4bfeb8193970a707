import { spawn, spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../scripts/lib/emulators.ts';
import { builtEntry } from './build.ts';
import { onCleanUp } from './cleanup.ts';
import type { BenchContext } from './context.ts';
import { eventContentType, eventsPath, hiredEventBody, runIdPrefix } from './event-body.ts';
import { round } from './latency.ts';
import { emulatorEnvironment, names } from './stack.ts';
import { throughputProjectId } from './throughput.ts';

// Figure 2: how long a new ingest process takes from spawn to its "listening" log line, and to the
// first 202, which needs a publish confirmed by Pub/Sub. A client sends requests in a loop from the
// moment of spawn, as Cloud Run would hold the request that triggered the start. Each start is a new
// process; the topic exists already (the throughput figure created it).

export interface ColdStartVariant {
  name: string;
  /** Node's arguments: flags, then the entry file. */
  nodeArgs: string[];
  env?: Record<string, string>;
  /** Starts run first and left out of the figures, for example to fill a compile cache. */
  uncountedStarts?: number;
  /**
   * A filled compile cache folder. Each start reads a fresh copy of it, as each instance of an
   * image starts with the folder as it is in the image.
   */
  compileCacheImage?: string;
}

export interface ColdStartResult {
  starts: number;
  listenMsMedian: number;
  listenMsMax: number;
  firstAcceptMsMedian: number;
  firstAcceptMsMax: number;
  listenMs: number[];
  firstAcceptMs: number[];
}

interface StartTimes {
  listenMs: number;
  firstAcceptMs: number;
}

const listeningMessage = 'ingest listening';
const attemptIntervalMillis = 2;
const startTimeoutMillis = 30_000;

export interface ColdStartFigure extends ColdStartResult {
  /** The other variants, by name. */
  variants: Record<string, ColdStartResult>;
}

/**
 * Runs the figure for six variants. `bundled` is the ingest as `npm start` runs it, and
 * `ingest-before` the ingest as it was before the benchmark work. `ingest-start-work-before`
 * compiles the schemas and loads google-auth-library before listening. `unbundled` runs the sources with
 * Node's type stripping. `bundled-image-cache` is the bundle with the compile cache that the
 * ingest's image fills at build time (scripts/fill-compile-cache.ts), and `bundled-compile-cache`
 * the bundle with a compile cache that a whole earlier start has filled.
 */
export async function runColdStartFigure(context: BenchContext): Promise<ColdStartFigure> {
  const imageCache = join(context.logDirectory, 'image-compile-cache');
  fillCompileCache(imageCache);
  const { bundled, ...variants } = await runColdStarts(context, [
    { name: 'bundled', nodeArgs: [builtEntry('ingest')] },
    { name: 'ingest-before', nodeArgs: [builtEntry('ingest-before')] },
    { name: 'ingest-start-work-before', nodeArgs: [builtEntry('ingest-start-work-before')] },
    { name: 'unbundled', nodeArgs: ['services/ingest/src/server.ts'] },
    { name: 'bundled-image-cache', nodeArgs: [builtEntry('ingest')], compileCacheImage: imageCache },
    {
      name: 'bundled-compile-cache',
      nodeArgs: [builtEntry('ingest')],
      env: { NODE_COMPILE_CACHE: join(context.logDirectory, 'compile-cache') },
      uncountedStarts: 1,
    },
  ]);
  if (bundled === undefined) throw new Error('The cold-start figure ran no start of the bundled ingest.');
  return { ...bundled, variants };
}

/** Runs the script that the ingest's Dockerfile runs to fill the image's compile cache. */
function fillCompileCache(directory: string): void {
  rmSync(directory, { recursive: true, force: true });
  const result = spawnSync(process.execPath, ['scripts/fill-compile-cache.ts'], { env: { ...process.env, NODE_COMPILE_CACHE: directory }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`scripts/fill-compile-cache.ts failed with exit code ${result.status}: ${result.stderr}`);
}

/**
 * Starts every variant the set number of times, taking the variants in turn, so that other work on
 * the machine during the figure affects each variant alike. Returns the figures by variant name.
 */
export async function runColdStarts(context: BenchContext, variants: ColdStartVariant[]): Promise<Record<string, ColdStartResult>> {
  for (const variant of variants) {
    for (let index = 0; index < (variant.uncountedStarts ?? 0); index += 1) await startOnce(context, variant);
  }
  const times = new Map<string, StartTimes[]>(variants.map((variant) => [variant.name, []]));
  for (let index = 0; index < context.settings.coldStart.starts; index += 1) {
    for (const variant of variants) times.get(variant.name)?.push(await startOnce(context, variant));
  }

  const results: Record<string, ColdStartResult> = {};
  for (const [name, starts] of times) {
    const listenMs = starts.map((time) => time.listenMs);
    const firstAcceptMs = starts.map((time) => time.firstAcceptMs);
    const result = {
      starts: starts.length,
      listenMsMedian: median(listenMs),
      listenMsMax: Math.max(...listenMs),
      firstAcceptMsMedian: median(firstAcceptMs),
      firstAcceptMsMax: Math.max(...firstAcceptMs),
      listenMs,
      firstAcceptMs,
    };
    context.log(
      `cold start (${name}, ${result.starts} starts): listening after ${result.listenMsMedian} ms median (max ${result.listenMsMax}), ` +
        `first 202 after ${result.firstAcceptMsMedian} ms median (max ${result.firstAcceptMsMax})`,
    );
    results[name] = result;
  }
  return results;
}

async function startOnce(context: BenchContext, variant: ColdStartVariant): Promise<StartTimes> {
  const port = await freePort();
  const env = {
    ...process.env,
    ...emulatorEnvironment(context.emulators, throughputProjectId),
    TOPIC: names.topic.name,
    LOG_LEVEL: 'info',
    ...context.ingestEnvironment,
    ...variant.env,
    ...(variant.compileCacheImage === undefined ? {} : { NODE_COMPILE_CACHE: freshCopy(context, variant.compileCacheImage) }),
    PORT: String(port),
    HOST: '127.0.0.1',
  };

  const startedAt = performance.now();
  const child = spawn(process.execPath, variant.nodeArgs, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const untrack = onCleanUp(() => child.kill('SIGKILL'));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  try {
    const listening = new Promise<number>((resolve) => {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        if (line.includes(listeningMessage)) resolve(performance.now() - startedAt);
      });
    });
    const firstAcceptMs = await sendUntilAccepted(context, port, startedAt, () => hasExited);
    // The log line is written before the first request can be served, so it is at most a pipe read away.
    const listenMs = await Promise.race([
      listening,
      sleep(5_000).then(() => {
        throw new Error(`The ingest accepted an event but wrote no "${listeningMessage}" log line on standard output.`);
      }),
    ]);
    return { listenMs: round(listenMs, 1), firstAcceptMs: round(firstAcceptMs, 1) };
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    untrack();
  }
}

/** Sends an event every few milliseconds until one gets a 202; returns the time of that response. */
async function sendUntilAccepted(context: BenchContext, port: number, startedAt: number, hasExited: () => boolean): Promise<number> {
  const idPrefix = runIdPrefix('cold');
  for (let attempt = 1; performance.now() - startedAt < startTimeoutMillis; attempt += 1) {
    if (hasExited()) throw new Error('The ingest exited during a cold start; run it by hand with the same settings to see why.');
    const status = await postEvent(port, hiredEventBody(`${idPrefix}-${attempt}`), context.requestHeaders);
    if (status === 202) return performance.now() - startedAt;
    // A 503 on a slow machine means the publish was not confirmed in time; the next event may be.
    if (status !== undefined && status < 500) {
      throw new Error(`The ingest responded to the first event of a cold start with ${status} instead of 202; check the benchmark's credentials.`);
    }
    await sleep(attemptIntervalMillis);
  }
  throw new Error(`The ingest did not accept an event within ${startTimeoutMillis} ms of its start.`);
}

/** Resolves with the response status, or undefined when nothing listens on the port yet. */
function postEvent(port: number, body: string, headers: Record<string, string>): Promise<number | undefined> {
  return new Promise((resolve) => {
    const outgoing = request(
      { host: '127.0.0.1', port, path: eventsPath, method: 'POST', agent: false, headers: { 'content-type': eventContentType, ...headers } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
      },
    );
    outgoing.on('error', () => resolve(undefined));
    outgoing.end(body);
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return round(sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2, 1);
}

/** Copies a compile cache folder to a new folder for one start and returns the copy's path. */
function freshCopy(context: BenchContext, directory: string): string {
  const copy = join(context.logDirectory, 'compile-cache-of-this-start');
  rmSync(copy, { recursive: true, force: true });
  cpSync(directory, copy, { recursive: true });
  return copy;
}
