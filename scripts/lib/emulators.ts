import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { findCloudSdk } from './sdk.ts';

// Starts the official Pub/Sub and Firestore emulators on loopback, each in its own process group,
// and stops them by that group so that no JVM outlives its launcher.

export interface Emulator {
  name: string;
  /** host:port, the form PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST take. */
  host: string;
  port: number;
  process: ChildProcess;
  /** Sends a signal to the emulator's whole process group (SIGSTOP and SIGCONT freeze and thaw it). */
  signal(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  port?: number;
  /** Milliseconds to wait for the emulator to report that it listens. */
  startTimeoutMillis?: number;
  /** Called with each line the emulator prints, for logs. */
  onOutput?: (line: string) => void;
}

export interface FirestoreEmulatorOptions extends EmulatorOptions {
  /** Folder written on exit and read at start, so that data survives a restart on the same port. */
  exportDirectory?: string;
  importDirectory?: string;
}

export async function startPubSubEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const sdk = findCloudSdk();
  const port = options.port ?? (await freePort());
  return launch('pubsub', sdk.pubsubLauncher, ['--host=127.0.0.1', `--port=${port}`], port, /Server started, listening on/, options);
}

export async function startFirestoreEmulator(options: FirestoreEmulatorOptions = {}): Promise<Emulator> {
  const sdk = findCloudSdk();
  const port = options.port ?? (await freePort());
  const args = ['start', '--host=127.0.0.1', `--port=${port}`];
  if (options.exportDirectory !== undefined) args.push(`--export-on-exit=${options.exportDirectory}`);
  if (options.importDirectory !== undefined) args.push(`--import-data=${options.importDirectory}`);
  return launch('firestore', sdk.firestoreLauncher, args, port, /Dev App Server is now running/, options);
}

async function launch(
  name: string,
  command: string,
  args: string[],
  port: number,
  readyPattern: RegExp,
  options: EmulatorOptions,
): Promise<Emulator> {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => {
    exited = true;
  });

  const signal = (signalName: NodeJS.Signals) => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signalName);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };

  const emulator: Emulator = {
    name,
    host: `127.0.0.1:${port}`,
    port,
    process: child,
    signal,
    async stop() {
      if (exited) return;
      // A frozen emulator ignores SIGTERM until it is thawed.
      signal('SIGCONT');
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 5000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };

  await new Promise<void>((resolve, reject) => {
    const timeoutMillis = options.startTimeoutMillis ?? 60_000;
    const timer = setTimeout(() => {
      void emulator.stop();
      reject(new Error(`The ${name} emulator did not start within ${timeoutMillis} ms on port ${port}. Its output:\n${output.join('\n')}`));
    }, timeoutMillis);
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() === '') continue;
        output.push(line);
        if (output.length > 200) output.shift();
        options.onOutput?.(line);
        if (readyPattern.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      }
    };
    child.stdout?.on('data', onLine);
    child.stderr?.on('data', onLine);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The ${name} emulator exited with code ${code} before it was ready. Its output:\n${output.join('\n')}`));
    });
  });
  return emulator;
}

/** Asks the kernel for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
