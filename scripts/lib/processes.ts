import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

// Starts the services as child processes from their built output and waits for their health
// endpoints, for the local stack, the end-to-end test and the benchmark.

export interface ServiceProcess {
  name: string;
  url: string;
  process: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals, timeoutMillis?: number): Promise<number | string>;
}

export interface StartServiceOptions {
  name: string;
  /** Path of the entry file, for example dist/ingest/server.mjs. */
  entry: string;
  port: number;
  env: Record<string, string>;
  /** Destination of the child's output: inherited by default, or a callback per line. */
  onOutput?: (line: string) => void;
  nodeArguments?: string[];
  healthTimeoutMillis?: number;
}

export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...(options.nodeArguments ?? []), options.entry], {
    env: { ...process.env, ...options.env, PORT: String(options.port), HOST: '127.0.0.1' },
    stdio: options.onOutput === undefined ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
  });
  // The last lines are kept for the error message when the service fails to start. A chunk may end
  // mid-line, so the unfinished tail waits for the next chunk.
  const recentLines: string[] = [];
  if (options.onOutput !== undefined) {
    const forwarder = () => {
      let unfinished = '';
      return (chunk: Buffer) => {
        const lines = (unfinished + chunk.toString()).split('\n');
        unfinished = lines.pop() ?? '';
        for (const line of lines.filter(Boolean)) {
          recentLines.push(line);
          if (recentLines.length > 20) recentLines.shift();
          options.onOutput!(line);
        }
      };
    };
    child.stdout?.on('data', forwarder());
    child.stderr?.on('data', forwarder());
  }
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const url = `http://127.0.0.1:${options.port}`;

  const service: ServiceProcess = {
    name: options.name,
    url,
    process: child,
    exited,
    async stop(signal = 'SIGTERM', timeoutMillis = 12_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMillis);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  try {
    await waitForHealth(service, options.healthTimeoutMillis ?? 20_000);
  } catch (error) {
    const output = recentLines.length === 0 ? '' : `\nIts last output:\n${recentLines.join('\n')}`;
    throw new Error(`${(error as Error).message}${output}`, { cause: error });
  }
  return service;
}

async function waitForHealth(service: ServiceProcess, timeoutMillis: number): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  let exitCode: number | string | undefined;
  void service.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${service.name} exited with ${exitCode} before it became healthy.`);
    try {
      const response = await fetch(`${service.url}/health`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  await service.stop('SIGKILL');
  throw new Error(`${service.name} did not respond to GET ${service.url}/health within ${timeoutMillis} ms.`);
}
