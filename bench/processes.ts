import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanUp } from './cleanup.ts';
import { nodeCommand } from './open-files.ts';

// Starts a server under test as a child process on loopback, with its output in a log file rather
// than a pipe that the benchmark would have to read, and waits for its health endpoint.

export interface BenchProcess {
  name: string;
  pid: number;
  url: string;
  logPath: string;
  /** Resolves with the exit code, or the signal name, once the process has exited. */
  exited: Promise<number | string>;
  /** Sends SIGTERM, then SIGKILL after `graceMillis`, and resolves once the process has exited. */
  stop(graceMillis?: number): Promise<void>;
}

export interface StartProcessOptions {
  name: string;
  /** Node's arguments: flags, then the entry file. */
  nodeArgs: string[];
  port: number;
  env: Record<string, string>;
  logDirectory: string;
  /** File descriptors the process needs, when more than the default limit. */
  openFiles?: number;
  healthTimeoutMillis?: number;
}

export async function startProcess(options: StartProcessOptions): Promise<BenchProcess> {
  const logPath = join(options.logDirectory, `${options.name}.log`);
  const log = openSync(logPath, 'a');
  const { command, args } = nodeCommand(options.nodeArgs, options.openFiles);
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env, PORT: String(options.port), HOST: '127.0.0.1' },
    stdio: ['ignore', log, log],
  });
  closeSync(log);

  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const stop = async (graceMillis = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMillis);
      await exited;
      clearTimeout(timer);
    }
  };
  const untrack = onCleanUp(stop);
  void exited.then(untrack);

  const started: BenchProcess = {
    name: options.name,
    pid: child.pid as number,
    url: `http://127.0.0.1:${options.port}`,
    logPath,
    exited,
    stop,
  };
  await waitForHealth(started, options.healthTimeoutMillis ?? 30_000);
  return started;
}

async function waitForHealth(started: BenchProcess, timeoutMillis: number): Promise<void> {
  let exitCode: number | string | undefined;
  void started.exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMillis;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${started.name} exited with ${exitCode} before it became healthy; see ${started.logPath}.`);
    try {
      const response = await fetch(`${started.url}/health`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  await started.stop(0);
  throw new Error(`${started.name} did not respond to GET ${started.url}/health within ${timeoutMillis} ms; see ${started.logPath}.`);
}
