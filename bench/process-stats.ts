import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

// CPU time and memory of a process, read from Linux's /proc (see proc(5)).

const clockTicksPerSecond = readClockTicks();

/** User plus system CPU time that the process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces, so the fields are counted after its closing
  // parenthesis: field 3 is at index 0, utime (field 14) at 11 and stime (field 15) at 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
}

/**
 * Resets the process's peak resident set size (VmHWM) to its current size, so that a later
 * `peakRssMiB` covers one measurement only. Returns false where the kernel does not allow it;
 * the peak then covers the process's whole life.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak resident set size in MiB since the process started or since `resetPeakRss`. */
export function peakRssMiB(pid: number): number {
  return statusKibibytes(pid, 'VmHWM') / 1024;
}

export function rssMiB(pid: number): number {
  return statusKibibytes(pid, 'VmRSS') / 1024;
}

function statusKibibytes(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (match === null) throw new Error(`/proc/${pid}/status has no ${field} line; is process ${pid} still running?`);
  return Number(match[1]);
}

function readClockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    // 100 is the value on every Linux architecture that Node supports.
    return 100;
  }
}

interface MachineCpu {
  /** User, nice, system, irq and softirq time of all CPUs since boot, in seconds. */
  busy: number;
  /** Time the hypervisor gave this machine's CPUs to something else, in seconds. */
  steal: number;
}

/** Totals of the first line of /proc/stat. */
export function machineCpuSeconds(): MachineCpu {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return { busy: (user + nice + system + irq + softirq) / clockTicksPerSecond, steal: steal / clockTicksPerSecond };
}

/** CPU time of every running process in process group `groupId`: an emulator and the JVM it starts. */
export function processGroupCpuSeconds(groupId: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // The process group is field 5, at index 2 after the name.
      if (Number(fields[2]) === groupId) total += (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
    } catch {
      // The process exited while the directory was read.
    }
  }
  return total;
}
