import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

// Samples a service while a fault lasts: its resident memory from /proc (Linux), and its health
// endpoint, so a scenario can show that the service stayed bounded and healthy.

/** Resident set size of the process in MiB, from VmRSS in /proc/<pid>/status. */
export function residentMebibytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`/proc/${pid}/status has no VmRSS line; is the process alive?`);
  return Number(match[1]) / 1024;
}

export interface Samples {
  residentMebibytes: number[];
  healthStatuses: number[];
}

export interface Sampler {
  stop(): Promise<Samples>;
}

/** Samples memory and GET <url>/health every `intervalMillis` until stopped. */
export function startSampler(pid: number, url: string, intervalMillis = 250): Sampler {
  const samples: Samples = { residentMebibytes: [], healthStatuses: [] };
  let isStopped = false;
  const loop = (async () => {
    while (!isStopped) {
      samples.residentMebibytes.push(residentMebibytes(pid));
      try {
        const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        samples.healthStatuses.push(response.status);
      } catch {
        // No response counts as unhealthy; 0 stands for it.
        samples.healthStatuses.push(0);
      }
      await sleep(intervalMillis);
    }
  })();
  return {
    async stop() {
      isStopped = true;
      await loop;
      return samples;
    },
  };
}
