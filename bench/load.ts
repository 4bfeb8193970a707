import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LatencySummary } from './latency.ts';
import { onCleanUp } from './cleanup.ts';
import { nodeCommand } from './open-files.ts';

// Runs load from a second process (bench/load-worker.ts), so that the load generator never shares
// the event loop of the server it measures. Three kinds of load:
// - closed loop (autocannon): a fixed number of connections, each sending its next request as soon
//   as the response to the previous one arrives. This measures capacity.
// - paced (open loop): requests start on a fixed schedule whatever the responses do, and latency is
//   counted from the scheduled start, so a stalled server cannot hide its queue.
// - clients: phases of simultaneous clients, each on its own connection sending an event every
//   1/rate seconds and waiting for each response. A phase ends once every client has its last
//   response, so no accepted event goes uncounted. This is the spike.

export interface LoadPhase {
  connections: number;
  seconds: number;
}

export interface ClosedLoopJob {
  kind: 'closed-loop';
  url: string;
  idPrefix: string;
  headers: Record<string, string>;
  phases: LoadPhase[];
  timeoutSeconds: number;
}

export interface PacedJob {
  kind: 'paced';
  url: string;
  idPrefix: string;
  headers: Record<string, string>;
  ratePerSecond: number;
  seconds: number;
  /** Open connections at most; a request that finds them all busy waits, and the wait counts as latency. */
  maxConnections: number;
  timeoutSeconds: number;
  /** Keep the id of every accepted event (parsed from the 202 body) and the time of its 202. */
  recordAccepted?: boolean;
}

export interface ClientsJob {
  kind: 'clients';
  url: string;
  idPrefix: string;
  headers: Record<string, string>;
  phases: LoadPhase[];
  requestsPerClientPerSecond: number;
  timeoutSeconds: number;
  recordAccepted?: boolean;
  /** Send the count of 202 responses to the parent this often, in milliseconds. */
  progressIntervalMillis?: number;
}

export type LoadJob = ClosedLoopJob | PacedJob | ClientsJob;

export interface AcceptedEvent {
  id: string;
  /** Wall-clock time of the 202, in milliseconds since the epoch. */
  acceptedAtMs: number;
}

export interface LoadCounts {
  /** Wall-clock seconds from the first request to the end of the load. */
  seconds: number;
  answered: number;
  /** 202 responses. */
  accepted: number;
  statusCounts: Record<string, number>;
  /** Connections refused, reset or closed before a response. */
  connectionErrors: number;
  timeouts: number;
}

export interface LoadResult extends LoadCounts {
  /** Over every request that got a response, whatever its status. */
  latency: LatencySummary;
  /** CPU time of the load worker itself, in seconds. */
  cpuSeconds: number;
  phases: LoadCounts[];
  acceptedEvents: AcceptedEvent[];
}

export interface LoadProgress {
  accepted: number;
  /** Wall-clock time, in milliseconds since the epoch. */
  at: number;
}

export type WorkerMessage = { type: 'progress'; progress: LoadProgress } | { type: 'result'; result: LoadResult } | { type: 'failed'; message: string };

const workerPath = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

export interface RunLoadOptions {
  onProgress?: (progress: LoadProgress) => void;
  /** File descriptors the worker needs: one per connection plus a margin. */
  openFiles?: number;
}

/** Runs one load job in a new worker process and resolves with its result. */
export function runLoad(job: LoadJob, options: RunLoadOptions = {}): Promise<LoadResult> {
  const { command, args } = nodeCommand([workerPath], options.openFiles);
  const worker = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const untrack = onCleanUp(() => worker.kill('SIGKILL'));

  return new Promise<LoadResult>((resolve, reject) => {
    let settled = false;
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'progress') options.onProgress?.(message.progress);
      else if (message.type === 'result') {
        settled = true;
        resolve(message.result);
      } else {
        settled = true;
        reject(new Error(`The load worker failed: ${message.message}`));
      }
    });
    worker.once('exit', (code, signal) => {
      untrack();
      if (!settled) reject(new Error(`The load worker exited with ${code ?? signal} before it sent a result.`));
    });
    worker.send(job);
  });
}
