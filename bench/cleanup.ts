// Everything the benchmark starts (emulators, services, load workers) registers how to stop it
// here, so that a failure or Ctrl-C stops all of it, newest first.

type Stop = () => Promise<unknown> | unknown;

const stops = new Set<Stop>();

/** Registers `stop` and returns a function that removes it again once the thing has stopped. */
export function onCleanUp(stop: Stop): () => void {
  stops.add(stop);
  return () => stops.delete(stop);
}

/** Runs every registered stop, newest first; one that fails is reported and the rest still run. */
export async function cleanUp(): Promise<void> {
  for (const stop of [...stops].reverse()) {
    stops.delete(stop);
    try {
      await stop();
    } catch (error) {
      console.error(`Clean-up step failed: ${(error as Error).message}`);
    }
  }
}
