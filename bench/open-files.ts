import { readFileSync } from 'node:fs';

// Every TCP connection costs a file descriptor in the load worker and another in the server, so the
// spike's thousands of clients need more than the usual default of 1,024. Node cannot raise its own
// limit, so a child that needs more is started through `sh -c 'ulimit -n N; exec node ...'`.

export interface OpenFileLimits {
  soft: number;
  hard: number;
}

/** Returns the open-file limits of this process, from /proc/self/limits ("unlimited" as Infinity). */
export function openFileLimits(): OpenFileLimits {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  if (match === null) throw new Error('/proc/self/limits has no "Max open files" line; the benchmark needs Linux.');
  const parse = (value: string) => (value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value));
  return { soft: parse(match[1] as string), hard: parse(match[2] as string) };
}

/**
 * Returns the command and arguments that run `node <args>` with at least `openFiles` descriptors.
 * Throws when even the hard limit is lower, naming the limit and the fix.
 */
export function nodeCommand(args: string[], openFiles?: number): { command: string; args: string[] } {
  const limits = openFileLimits();
  if (openFiles === undefined || openFiles <= limits.soft) return { command: process.execPath, args };
  if (openFiles > limits.hard) {
    throw new Error(
      `This step needs ${openFiles} open files per process, but the hard limit is ${limits.hard}; ` +
        `raise it (for example \`ulimit -Hn ${openFiles}\` as root, or LimitNOFILE in a systemd unit) and run the benchmark again.`,
    );
  }
  // "$0" "$@" passes the node binary and its arguments through without quoting them into the script.
  return { command: 'sh', args: ['-c', `ulimit -n ${openFiles} && exec "$0" "$@"`, process.execPath, ...args] };
}
