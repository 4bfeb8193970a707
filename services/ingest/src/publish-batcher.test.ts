import type { OutgoingMessage } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { OrderingKeyFailedError, PublishBatcher, type PublishBatchingOptions } from './publish-batcher.ts';

function message(id: string, orderingKey: string, dataBytes = 2): OutgoingMessage {
  return { data: Buffer.alloc(dataBytes, 0x20), attributes: { 'ce-id': id }, orderingKey };
}

interface HeldRequest {
  ids: string[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Keeps every Publish request pending until the test resolves or rejects it, like a Pub/Sub round trip. */
class HeldPubSub {
  readonly requests: HeldRequest[] = [];

  readonly send = (messages: OutgoingMessage[]): Promise<string[]> => {
    const ids = messages.map((outgoing) => outgoing.attributes['ce-id'] as string);
    return new Promise((resolve, reject) => this.requests.push({ ids, resolve: () => resolve(ids.map((id) => `m-${id}`)), reject }));
  };
}

const roomy: PublishBatchingOptions = { maxMessagesPerRequest: 1000, maxBytesPerRequest: 1024 * 1024, maxConcurrentRequests: 4 };

/** Lets the batcher's dispatch, which runs after the current turn of the event loop, happen. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function grpcError(code: number): Error {
  return Object.assign(new Error(`gRPC status ${code}`), { code });
}

describe('PublishBatcher', () => {
  it('messages of one turn share a request', async () => {
    const pubsub = new HeldPubSub();
    const batcher = new PublishBatcher(pubsub.send, roomy);
    const published = ['a', 'b', 'c'].map((id) => batcher.publish(message(id, `P-${id}`)));
    expect(pubsub.requests).toHaveLength(0);

    await nextTurn();
    expect(pubsub.requests.map((request) => request.ids)).toEqual([['a', 'b', 'c']]);
    pubsub.requests[0]?.resolve();
    expect(await Promise.all(published)).toEqual(['m-a', 'm-b', 'm-c']);
  });

  it('one key in one request keeps its order', async () => {
    const pubsub = new HeldPubSub();
    const batcher = new PublishBatcher(pubsub.send, roomy);
    void batcher.publish(message('a1', 'A'));
    void batcher.publish(message('b1', 'B'));
    void batcher.publish(message('a2', 'A'));

    await nextTurn();
    expect(pubsub.requests.map((request) => request.ids)).toEqual([['a1', 'b1', 'a2']]);
  });

  it('key waits for its request in flight', async () => {
    const pubsub = new HeldPubSub();
    const batcher = new PublishBatcher(pubsub.send, roomy);
    const first = batcher.publish(message('a1', 'A'));
    await nextTurn();
    const second = batcher.publish(message('a2', 'A'));
    const other = batcher.publish(message('b1', 'B'));

    await nextTurn();
    expect(pubsub.requests.map((request) => request.ids)).toEqual([['a1'], ['b1']]);

    pubsub.requests[0]?.resolve();
    expect(await first).toBe('m-a1');
    await nextTurn();
    expect(pubsub.requests.map((request) => request.ids)).toEqual([['a1'], ['b1'], ['a2']]);
    pubsub.requests[1]?.resolve();
    pubsub.requests[2]?.resolve();
    expect(await Promise.all([second, other])).toEqual(['m-a2', 'm-b1']);
  });

  it('busy slots gather messages into one request', async () => {
    const pubsub = new HeldPubSub();
    const batcher = new PublishBatcher(pubsub.send, { ...roomy, maxConcurrentRequests: 1 });
    void batcher.publish(message('a', 'A'));
    await nextTurn();
    void batcher.publish(message('b', 'B'));
    await nextTurn();
    void batcher.publish(message('c', 'C'));
    await nextTurn();
    expect(pubsub.requests).toHaveLength(1);

    pubsub.requests[0]?.resolve();
    await nextTurn();
    await nextTurn();
    expect(pubsub.requests.map((request) => request.ids)).toEqual([['a'], ['b', 'c']]);
  });

  it('message and byte limits split requests', async () => {
    const pubsub = new HeldPubSub();
    const byCount = new PublishBatcher(pubsub.send, { ...roomy, maxMessagesPerRequest: 2 });
    for (const id of ['a', 'b', 'c']) void byCount.publish(message(id, id));
    await nextTurn();
    expect(pubsub.requests.map((request) => request.ids)).toEqual([['a', 'b'], ['c']]);

    // Each message is estimated at about 1,040 bytes, so two do not fit in 1,500 bytes, while one
    // larger than the limit still goes out alone.
    const bySize = new PublishBatcher(pubsub.send, { ...roomy, maxBytesPerRequest: 1_500 });
    void bySize.publish(message('d', 'D', 1_000));
    void bySize.publish(message('e', 'E', 1_000));
    void bySize.publish(message('f', 'F', 2_000));
    await nextTurn();
    expect(pubsub.requests.slice(2).map((request) => request.ids)).toEqual([['d'], ['e'], ['f']]);
  });

  it('held key keeps later messages behind', async () => {
    const pubsub = new HeldPubSub();
    const batcher = new PublishBatcher(pubsub.send, { ...roomy, maxMessagesPerRequest: 2 });
    for (const [id, key] of [['a1', 'A'], ['b1', 'B'], ['a2', 'A'], ['c1', 'C']]) void batcher.publish(message(id as string, key as string));
    await nextTurn();
    // a2 does not fit in the first request, and it must not travel beside a1 in a second one.
    expect(pubsub.requests.map((request) => request.ids)).toEqual([['a1', 'b1'], ['c1']]);

    pubsub.requests[0]?.resolve();
    await waitForRequests(pubsub, 3);
    expect(pubsub.requests[2]?.ids).toEqual(['a2']);
  });

  it('failure rejects the batch and its queued keys', async () => {
    const pubsub = new HeldPubSub();
    const batcher = new PublishBatcher(pubsub.send, roomy);
    const first = batcher.publish(message('a1', 'A'));
    await nextTurn();
    const queued = batcher.publish(message('a2', 'A'));
    const unrelated = batcher.publish(message('b1', 'B'));
    await nextTurn();

    const unavailable = grpcError(14);
    pubsub.requests[0]?.reject(unavailable);
    await expect(first).rejects.toBe(unavailable);
    const skipped = await queued.catch((error: unknown) => error);
    expect(skipped).toBeInstanceOf(OrderingKeyFailedError);
    expect((skipped as OrderingKeyFailedError).orderingKey).toBe('A');
    expect((skipped as OrderingKeyFailedError).cause).toBe(unavailable);

    // The key works again for messages that arrive after the failure.
    const later = batcher.publish(message('a3', 'A'));
    await nextTurn();
    expect(pubsub.requests.map((request) => request.ids)).toEqual([['a1'], ['b1'], ['a3']]);
    pubsub.requests[1]?.resolve();
    pubsub.requests[2]?.resolve();
    expect(await Promise.all([unrelated, later])).toEqual(['m-b1', 'm-a3']);
  });

  it('invalid batch is resent one by one', async () => {
    const pubsub = new HeldPubSub();
    const batcher = new PublishBatcher(pubsub.send, roomy);
    const valid = batcher.publish(message('a', 'A'));
    const invalid = batcher.publish(message('b1', 'B'));
    const afterInvalid = batcher.publish(message('b2', 'B'));
    await nextTurn();

    pubsub.requests[0]?.reject(grpcError(3));
    await waitForRequests(pubsub, 2);
    pubsub.requests[1]?.resolve();
    await waitForRequests(pubsub, 3);
    const schemaError = grpcError(3);
    pubsub.requests[2]?.reject(schemaError);

    expect(await valid).toBe('m-a');
    await expect(invalid).rejects.toBe(schemaError);
    await expect(afterInvalid).rejects.toBeInstanceOf(OrderingKeyFailedError);
    expect(pubsub.requests.map((request) => request.ids)).toEqual([['a', 'b1', 'b2'], ['a'], ['b1']]);
  });

  it('wrong number of message ids rejects', async () => {
    const batcher = new PublishBatcher(async () => ['only-one'], roomy);
    const published = [batcher.publish(message('a', 'A')), batcher.publish(message('b', 'B'))];
    for (const outcome of published) await expect(outcome).rejects.toThrow('returned 1 message ids for a Publish request of 2 messages');
  });

  it('send that throws rejects', async () => {
    const batcher = new PublishBatcher(() => {
      throw new TypeError('attributes must be strings');
    }, roomy);
    await expect(batcher.publish(message('a', 'A'))).rejects.toThrow('attributes must be strings');
  });

  it('flush sends at once and waits for answers', async () => {
    const pubsub = new HeldPubSub();
    const batcher = new PublishBatcher(pubsub.send, roomy);
    const published = batcher.publish(message('a', 'A'));
    let isFlushed = false;
    const flushed = batcher.flush().then(() => (isFlushed = true));
    expect(pubsub.requests.map((request) => request.ids)).toEqual([['a']]);

    await nextTurn();
    expect(isFlushed).toBe(false);
    pubsub.requests[0]?.resolve();
    await flushed;
    expect(await published).toBe('m-a');
    await batcher.flush();
  });

  it('limits below one are rejected', () => {
    expect(() => new PublishBatcher(async () => [], { ...roomy, maxConcurrentRequests: 0 })).toThrow(RangeError);
  });
});

async function waitForRequests(pubsub: HeldPubSub, count: number): Promise<void> {
  for (let turn = 0; turn < 20 && pubsub.requests.length < count; turn += 1) await nextTurn();
  expect(pubsub.requests).toHaveLength(count);
}
