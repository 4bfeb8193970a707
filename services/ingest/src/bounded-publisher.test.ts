import type { OutgoingMessage } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { BoundedPublisher } from './bounded-publisher.ts';
import type { EventPublisher } from './publisher.ts';

function message(personId: string): OutgoingMessage {
  return { data: Buffer.from('{}'), attributes: { 'ce-id': personId }, orderingKey: personId };
}

/** Holds every publish until the test confirms or fails it, as a slow Pub/Sub would. */
class HeldPublisher implements EventPublisher {
  readonly pending: { message: OutgoingMessage; resolve: (id: string) => void; reject: (error: Error) => void }[] = [];

  publish(message: OutgoingMessage): Promise<string> {
    return new Promise((resolve, reject) => this.pending.push({ message, resolve, reject }));
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}

describe('BoundedPublisher', () => {
  it('publishes and returns the message ids', async () => {
    const heldPublisher = new HeldPublisher();
    const publisher = new BoundedPublisher(heldPublisher, { maxInflightPublishes: 10, publishTimeoutMillis: 1000 });
    const outcome = publisher.publishAll([message('P-1'), message('P-2')]);
    expect(publisher.inFlight).toBe(2);
    heldPublisher.pending.forEach((entry, index) => entry.resolve(`m-${index}`));
    expect(await outcome).toEqual({ status: 'published', messageIds: ['m-0', 'm-1'] });
    await Promise.resolve();
    expect(publisher.inFlight).toBe(0);
  });

  it('rejects at once beyond the in-flight limit', async () => {
    const heldPublisher = new HeldPublisher();
    const publisher = new BoundedPublisher(heldPublisher, { maxInflightPublishes: 3, publishTimeoutMillis: 1000 });
    const first = publisher.publishAll([message('P-1'), message('P-2')]);
    expect(await publisher.publishAll([message('P-3'), message('P-4')])).toEqual({ status: 'overloaded' });
    expect(heldPublisher.pending).toHaveLength(2);

    heldPublisher.pending.forEach((entry) => entry.resolve('m'));
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    const later = publisher.publishAll([message('P-3'), message('P-4')]);
    heldPublisher.pending.slice(2).forEach((entry) => entry.resolve('m'));
    expect((await later).status).toBe('published');
  });

  it('times out but keeps the slots until the client settles', async () => {
    const heldPublisher = new HeldPublisher();
    const publisher = new BoundedPublisher(heldPublisher, { maxInflightPublishes: 10, publishTimeoutMillis: 20 });
    expect(await publisher.publishAll([message('P-1')])).toEqual({ status: 'timed-out' });
    expect(publisher.inFlight).toBe(1);

    heldPublisher.pending[0]?.reject(new Error('deadline exceeded'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(publisher.inFlight).toBe(0);
  });

  it('reports the first failure of a batch', async () => {
    const heldPublisher = new HeldPublisher();
    const publisher = new BoundedPublisher(heldPublisher, { maxInflightPublishes: 10, publishTimeoutMillis: 1000 });
    const outcome = publisher.publishAll([message('P-1'), message('P-2')]);
    const failure = Object.assign(new Error('unavailable'), { code: 14 });
    heldPublisher.pending[0]?.resolve('m-0');
    heldPublisher.pending[1]?.reject(failure);
    expect(await outcome).toEqual({ status: 'failed', error: failure });
  });

  it('frees the slot of a publisher that throws', async () => {
    const throwing: EventPublisher = {
      publish: () => {
        throw new TypeError('attributes must be strings');
      },
      flush: async () => {},
      close: async () => {},
    };
    const publisher = new BoundedPublisher(throwing, { maxInflightPublishes: 10, publishTimeoutMillis: 1000 });
    expect((await publisher.publishAll([message('P-1')])).status).toBe('failed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(publisher.inFlight).toBe(0);
  });
});
