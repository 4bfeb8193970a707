import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { OutstandingLimit } from './outstanding-limit.ts';

/** Runs tasks through the limit and records the most that ran at once. */
async function runAll(limit: OutstandingLimit, sizes: number[]) {
  let running = 0;
  let maxRunning = 0;
  const started: number[] = [];
  await Promise.all(
    sizes.map((bytes, index) =>
      limit.run(bytes, async () => {
        started.push(index);
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await sleep(5);
        running -= 1;
      }),
    ),
  );
  return { maxRunning, started };
}

describe('OutstandingLimit', () => {
  it('caps messages running at once', async () => {
    const { maxRunning, started } = await runAll(new OutstandingLimit(3, 1_000_000), Array(20).fill(10));

    expect(maxRunning).toBe(3);
    expect(started).toHaveLength(20);
  });

  it('caps bytes running at once', async () => {
    const { maxRunning } = await runAll(new OutstandingLimit(100, 250), Array(10).fill(100));

    expect(maxRunning).toBe(2);
  });

  it('runs a message above the byte limit alone', async () => {
    const { maxRunning, started } = await runAll(new OutstandingLimit(10, 100), [500, 10, 10]);

    expect(started).toEqual([0, 1, 2]);
    expect(maxRunning).toBe(2);
  });

  it('admits in arrival order', async () => {
    const { started } = await runAll(new OutstandingLimit(2, 100), [50, 50, 90, 10, 10]);

    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('failed task frees its room', async () => {
    const limit = new OutstandingLimit(1, 100);

    await expect(limit.run(10, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limit.run(10, async () => 'ran')).resolves.toBe('ran');
    expect(limit.running).toBe(0);
    expect(limit.waiting).toBe(0);
  });
});
