// Runs tasks one after another for each ordering key, and tasks without a key at once. Pub/Sub
// delivers one person's messages in publish order, but the client library hands them over without
// waiting for the previous ack. Without this queue, two events about one person would race for the
// same Firestore document, and one of the transactions would be retried for nothing.

export class OrderingKeyQueue {
  // The last task queued for each key. A key is removed once its last task has finished.
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(orderingKey: string | undefined, task: () => Promise<T>): Promise<T> {
    if (!orderingKey) return task();

    const previous = this.#tails.get(orderingKey) ?? Promise.resolve();
    const result = previous.then(task);
    // A failed task must not stop the tasks queued after it.
    const tail = result.catch(() => undefined);
    this.#tails.set(orderingKey, tail);
    void tail.then(() => {
      if (this.#tails.get(orderingKey) === tail) this.#tails.delete(orderingKey);
    });
    return result;
  }

  /** Number of keys with a task queued or running. */
  get activeKeys(): number {
    return this.#tails.size;
  }
}
