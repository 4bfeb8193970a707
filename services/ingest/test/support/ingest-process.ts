import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

// The ingest as Cloud Run runs it: `node services/ingest/src/server.ts` in a child process, with
// its JSON log lines collected for the test.

const serverPath = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export interface IngestProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Every JSON line the process wrote to standard output so far. */
  logs: Record<string, unknown>[];
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startIngestProcess(env: Record<string, string>, timeoutMillis = 15_000): Promise<IngestProcess> {
  const child = spawn(process.execPath, [serverPath], {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const logs: Record<string, unknown>[] = [];
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
  });

  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const listening = logs.find((line) => typeof line.port === 'number' && String(line.message).startsWith('ingest listening'));
    if (listening !== undefined) {
      const port = listening.port as number;
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        return exited;
      };
      return { child, port, url: `http://127.0.0.1:${port}`, logs, stop };
    }
    if (child.exitCode !== null) throw new Error(`ingest exited with code ${child.exitCode}: ${JSON.stringify(logs)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ingest did not log that it listens within ${timeoutMillis} ms: ${JSON.stringify(logs)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
