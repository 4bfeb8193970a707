import { cpuSeconds, machineCpuSeconds, processGroupCpuSeconds } from './process-stats.ts';
import type { Emulators } from './stack.ts';
import { round } from './latency.ts';

// Where the machine's CPU time went during one measurement. The server, the load generator, the
// emulators and the benchmark itself share the same cores. Whatever else ran on the machine shows
// up as `other`, so a reader can tell a slow figure from a busy machine.

export interface CpuShares {
  /** Average cores used, per process, over the measurement's wall-clock time. */
  server: number;
  loadGenerator: number;
  emulators: number;
  benchmark: number;
  other: number;
  /** Cores the hypervisor gave to something outside this machine. */
  steal: number;
}

export class CpuAccount {
  private readonly emulatorGroups: number[];

  private readonly serverPid: number | undefined;

  private readonly startedAt = performance.now();

  private readonly machine = machineCpuSeconds();

  private readonly self = process.cpuUsage();

  private readonly emulators: number;

  private readonly server: number;

  constructor(emulators: Emulators, serverPid?: number) {
    this.emulatorGroups = [emulators.pubsub.process.pid, emulators.firestore.process.pid].filter((pid): pid is number => pid !== undefined);
    this.serverPid = serverPid;
    this.emulators = this.sumEmulators();
    this.server = serverPid === undefined ? 0 : cpuSeconds(serverPid);
  }

  /** Ends the account; `loadGeneratorSeconds` is what the load worker reported for itself. */
  close(loadGeneratorSeconds: number): CpuShares {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const machine = machineCpuSeconds();
    const selfUsage = process.cpuUsage(this.self);
    const benchmark = (selfUsage.user + selfUsage.system) / 1e6;
    const emulators = this.sumEmulators() - this.emulators;
    const server = this.serverPid === undefined ? 0 : cpuSeconds(this.serverPid) - this.server;
    const busy = machine.busy - this.machine.busy;
    const other = Math.max(0, busy - server - loadGeneratorSeconds - emulators - benchmark);
    const cores = (value: number) => round(value / seconds, 2);
    return {
      server: cores(server),
      loadGenerator: cores(loadGeneratorSeconds),
      emulators: cores(emulators),
      benchmark: cores(benchmark),
      other: cores(other),
      steal: cores(machine.steal - this.machine.steal),
    };
  }

  private sumEmulators(): number {
    return this.emulatorGroups.reduce((sum, group) => sum + processGroupCpuSeconds(group), 0);
  }
}
