import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { OrderingKeyQueue } from './ordering-key-queue.ts';

describe('OrderingKeyQueue', () => {
  it('runs tasks of one key one at a time, in order', async () => {
    const queue = new OrderingKeyQueue();
    const events: string[] = [];
    const task = (name: string, delayMillis: number) => async () => {
      events.push(`start ${name}`);
      await sleep(delayMillis);
      events.push(`end ${name}`);
      return name;
    };

    const results = await Promise.all([queue.run('p-1', task('a', 30)), queue.run('p-1', task('b', 1)), queue.run('p-1', task('c', 1))]);

    expect(results).toEqual(['a', 'b', 'c']);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('runs different keys and unkeyed tasks side by side', async () => {
    const queue = new OrderingKeyQueue();
    const events: string[] = [];
    const task = (name: string) => async () => {
      events.push(`start ${name}`);
      await sleep(20);
      events.push(`end ${name}`);
    };

    await Promise.all([queue.run('p-1', task('a')), queue.run('p-2', task('b')), queue.run(undefined, task('c')), queue.run('', task('d'))]);

    expect(events.slice(0, 4).sort()).toEqual(['start a', 'start b', 'start c', 'start d']);
  });

  it('failed task does not block its key', async () => {
    const queue = new OrderingKeyQueue();

    const failed = queue.run('p-1', async () => {
      throw new Error('boom');
    });
    const next = queue.run('p-1', async () => 'ran');

    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });

  it('forgets keys once their tasks finish', async () => {
    const queue = new OrderingKeyQueue();

    const running = queue.run('p-1', () => sleep(10));
    expect(queue.activeKeys).toBe(1);
    await running;
    await sleep(0);

    expect(queue.activeKeys).toBe(0);
  });
});
