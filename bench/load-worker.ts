import { setTimeout as sleep } from 'node:timers/promises';
import autocannon, { type AutocannonResult } from 'autocannon';
import { eventContentType, eventsPath, hiredEventBody } from './event-body.ts';
import { LatencyRecorder } from './latency.ts';
import { postRequest, RawHttpConnection, RawTimeoutError } from './raw-http.ts';
import type { AcceptedEvent, ClientsJob, ClosedLoopJob, LoadCounts, LoadJob, LoadPhase, LoadResult, PacedJob, WorkerMessage } from './load.ts';

// The load generator's process (see load.ts). It receives one job over IPC, sends the result back
// and exits.

process.once('message', (job: LoadJob) => {
  let run: Promise<LoadResult>;
  if (job.kind === 'closed-loop') run = runClosedLoop(job);
  else if (job.kind === 'paced') run = runPaced(job);
  else run = runClients(job);
  run.then(
    (result) => reply({ type: 'result', result }, 0),
    (error: unknown) => reply({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }, 1),
  );
});

function reply(message: WorkerMessage, exitCode: number): void {
  process.send?.(message, () => process.exit(exitCode));
}

function wallClockMillis(): number {
  return performance.timeOrigin + performance.now();
}

/** Tallies of one run: status codes, errors, the 202s and their event ids. */
class Tally {
  readonly latency = new LatencyRecorder();

  readonly acceptedEvents: AcceptedEvent[] = [];

  readonly statusCounts: Record<string, number> = {};

  answered = 0;

  accepted = 0;

  connectionErrors = 0;

  timeouts = 0;

  recordResponse(status: number, latencyMillis: number): void {
    this.latency.record(latencyMillis);
    this.answered += 1;
    if (status === 202) this.accepted += 1;
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
  }

  recordAccepted(body: string): void {
    this.acceptedEvents.push({ id: (JSON.parse(body) as { id: string }).id, acceptedAtMs: wallClockMillis() });
  }

  counts(seconds: number): LoadCounts {
    const { answered, accepted, connectionErrors, timeouts } = this;
    return { seconds, answered, accepted, statusCounts: { ...this.statusCounts }, connectionErrors, timeouts };
  }

  result(seconds: number, phases: LoadCounts[]): LoadResult {
    const usage = process.cpuUsage();
    const cpuSeconds = (usage.user + usage.system) / 1e6;
    return { ...this.counts(seconds), latency: this.latency.summary(), cpuSeconds, phases, acceptedEvents: this.acceptedEvents };
  }
}

/** Runs each phase in turn and returns the counts of each, from the tally's totals before and after. */
async function runPhases(tally: Tally, phases: LoadPhase[], runPhase: (phase: LoadPhase) => Promise<void>): Promise<LoadCounts[]> {
  const counts: LoadCounts[] = [];
  for (const phase of phases) {
    const before = tally.counts(0);
    const startedAt = performance.now();
    await runPhase(phase);
    counts.push(difference(tally.counts((performance.now() - startedAt) / 1000), before));
  }
  return counts;
}

function difference(after: LoadCounts, before: LoadCounts): LoadCounts {
  const statusCounts: Record<string, number> = {};
  for (const [status, count] of Object.entries(after.statusCounts)) {
    const delta = count - (before.statusCounts[status] ?? 0);
    if (delta > 0) statusCounts[status] = delta;
  }
  return {
    seconds: after.seconds,
    answered: after.answered - before.answered,
    accepted: after.accepted - before.accepted,
    statusCounts,
    connectionErrors: after.connectionErrors - before.connectionErrors,
    timeouts: after.timeouts - before.timeouts,
  };
}

async function runClosedLoop(job: ClosedLoopJob): Promise<LoadResult> {
  const tally = new Tally();
  let sequence = 0;
  const startedAt = performance.now();
  const phases = await runPhases(tally, job.phases, async (phase) => {
    const result = await runAutocannon(job, phase, tally, () => {
      sequence += 1;
      return hiredEventBody(`${job.idPrefix}-${sequence}`);
    });
    // autocannon counts errors and timeouts itself; the tally counts responses.
    tally.connectionErrors += result.errors;
    tally.timeouts += result.timeouts;
  });
  return tally.result((performance.now() - startedAt) / 1000, phases);
}

function runAutocannon(job: ClosedLoopJob, phase: LoadPhase, tally: Tally, nextBody: () => string): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        connections: phase.connections,
        duration: phase.seconds,
        timeout: job.timeoutSeconds,
        requests: [
          {
            method: 'POST',
            path: eventsPath,
            headers: { 'content-type': eventContentType, ...job.headers },
            setupRequest: (outgoing) => {
              outgoing.body = nextBody();
              return outgoing;
            },
          },
        ],
      },
      (error, result) => (error === null ? resolve(result) : reject(error)),
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, responseMillis: number) => tally.recordResponse(status, responseMillis));
  });
}

/** Sends one event on `connection` and tallies its response or failure; latency counts from `startedAt`. */
async function sendEvent(connection: RawHttpConnection, target: Target, job: PacedJob | ClientsJob, id: string, startedAt: number, tally: Tally): Promise<void> {
  try {
    const response = await connection.send(postRequest(target.host, target.port, eventsPath, target.headers, hiredEventBody(id)));
    tally.recordResponse(response.status, performance.now() - startedAt);
    if (response.status === 202 && job.recordAccepted === true) tally.recordAccepted(response.body);
  } catch (error) {
    if (error instanceof RawTimeoutError) tally.timeouts += 1;
    else tally.connectionErrors += 1;
  }
}

interface Target {
  host: string;
  port: number;
  headers: Record<string, string>;
}

function targetOf(job: PacedJob | ClientsJob): Target {
  const url = new URL(job.url);
  return { host: url.hostname, port: Number(url.port), headers: { 'Content-Type': eventContentType, ...job.headers } };
}

/**
 * Starts request n at `start + n / rate`, whatever the earlier requests are doing, and measures
 * each latency from that scheduled start, so time spent waiting for a free connection counts.
 */
async function runPaced(job: PacedJob): Promise<LoadResult> {
  const tally = new Tally();
  const target = targetOf(job);
  const timeoutMillis = job.timeoutSeconds * 1000;
  const idle = Array.from({ length: job.maxConnections }, () => new RawHttpConnection(target.host, target.port, timeoutMillis));
  const total = Math.max(1, Math.round(job.ratePerSecond * job.seconds));
  const intervalMillis = 1000 / job.ratePerSecond;
  const due: { sequence: number; scheduledAt: number }[] = [];
  let nextDue = 0;
  let settled = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));

  // Hands due requests to idle connections; a request without one waits in `due`.
  const dispatch = () => {
    while (idle.length > 0 && nextDue < due.length) {
      const connection = idle.pop() as RawHttpConnection;
      const request = due[nextDue] as { sequence: number; scheduledAt: number };
      nextDue += 1;
      void sendEvent(connection, target, job, `${job.idPrefix}-${request.sequence}`, request.scheduledAt, tally).then(() => {
        idle.push(connection);
        settled += 1;
        if (settled === total) finish();
        else dispatch();
      });
    }
  };

  const startedAt = performance.now();
  for (let sent = 0; sent < total; sent += 1) {
    const scheduledAt = startedAt + sent * intervalMillis;
    const wait = scheduledAt - performance.now();
    // Behind schedule, the loop still yields now and then so that responses are read.
    if (wait > 1) await sleep(wait);
    else if (sent % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
    due.push({ sequence: sent + 1, scheduledAt });
    dispatch();
  }
  await finished;
  for (const connection of idle) connection.close();
  const seconds = (performance.now() - startedAt) / 1000;
  return tally.result(seconds, [tally.counts(seconds)]);
}

async function runClients(job: ClientsJob): Promise<LoadResult> {
  const tally = new Tally();
  const target = targetOf(job);
  const intervalMillis = 1000 / job.requestsPerClientPerSecond;
  let sequence = 0;
  const progress =
    job.progressIntervalMillis === undefined
      ? undefined
      : setInterval(() => process.send?.({ type: 'progress', progress: { accepted: tally.accepted, at: wallClockMillis() } } satisfies WorkerMessage), job.progressIntervalMillis);

  const startedAt = performance.now();
  try {
    const phases = await runPhases(tally, job.phases, async (phase) => {
      const phaseStartedAt = performance.now();
      const phaseEndsAt = phaseStartedAt + phase.seconds * 1000;
      // One connection per client, kept open between its requests.
      const client = async () => {
        const connection = new RawHttpConnection(target.host, target.port, job.timeoutSeconds * 1000);
        for (let scheduledAt = phaseStartedAt; scheduledAt < phaseEndsAt; scheduledAt += intervalMillis) {
          const wait = scheduledAt - performance.now();
          if (wait > 1) await sleep(wait);
          sequence += 1;
          await sendEvent(connection, target, job, `${job.idPrefix}-${sequence}`, performance.now(), tally);
        }
        // The client stays connected until its phase ends, so the phase keeps its clients for its whole length.
        const rest = phaseEndsAt - performance.now();
        if (rest > 1) await sleep(rest);
        connection.close();
      };
      await Promise.all(Array.from({ length: phase.connections }, client));
    });
    return tally.result((performance.now() - startedAt) / 1000, phases);
  } finally {
    if (progress !== undefined) clearInterval(progress);
  }
}
