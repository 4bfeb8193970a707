import type { BenchSettings } from './settings.ts';
import type { Emulators } from './stack.ts';

/** Shared inputs of every figure: the settings, the emulators, the log folder and the credentials. */
export interface BenchContext {
  settings: BenchSettings;
  emulators: Emulators;
  logDirectory: string;
  /** Headers every load request carries, such as a source's API key; empty when none is needed. */
  requestHeaders: Record<string, string>;
  /** Extra environment for every ingest process, such as the sources file with the benchmark's key. */
  ingestEnvironment: Record<string, string>;
  /** Prints one progress line. */
  log(message: string): void;
}
