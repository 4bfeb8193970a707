/** Value that `raceTimeout` resolves with when the time runs out first. */
export const timedOut = Symbol('timed out');

/**
 * Resolves with the promise's value, or with `timedOut` after `timeoutMillis`. The promise itself
 * goes on; a rejection that comes after the timeout is handled and dropped.
 */
export async function raceTimeout<T>(promise: Promise<T>, timeoutMillis: number): Promise<T | typeof timedOut> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof timedOut>((resolve) => {
    timer = setTimeout(resolve, timeoutMillis, timedOut);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
