// Bounds the messages being handled at once, by count and by bytes, while the rest wait in arrival
// order. Pub/Sub enforces the same limits on the server, because the client sends them when it
// opens the stream. The emulator (0.8.20) ignores them and sends a whole backlog in one response,
// and the client hands every message of a response to the handler (allowExcessMessages). Waiting
// here, rather than in the client's own pending list, keeps every received message dispatched, so
// a close that waits for processing finishes these messages too instead of nacking them.

export class OutstandingLimit {
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #waiting: Array<{ bytes: number; admit: () => void }> = [];
  #messages = 0;
  #bytes = 0;

  constructor(maxMessages: number, maxBytes: number) {
    this.#maxMessages = maxMessages;
    this.#maxBytes = maxBytes;
  }

  /** Runs `task` once the limits leave room for it. A message larger than maxBytes runs alone. */
  async run<T>(bytes: number, task: () => Promise<T>): Promise<T> {
    await this.#acquire(bytes);
    try {
      return await task();
    } finally {
      this.#messages -= 1;
      this.#bytes -= bytes;
      this.#admitWaiting();
    }
  }

  /** Messages running now. */
  get running(): number {
    return this.#messages;
  }

  /** Messages waiting for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  #acquire(bytes: number): Promise<void> {
    if (this.#waiting.length === 0 && this.#canAdmit(bytes)) {
      this.#reserve(bytes);
      return Promise.resolve();
    }
    return new Promise((admit) => this.#waiting.push({ bytes, admit }));
  }

  // Admits in arrival order only, so a large message is not passed over forever by small ones.
  // Room is reserved on admission, before the admitted task resumes, so the limits hold.
  #admitWaiting(): void {
    while (this.#waiting.length > 0 && this.#canAdmit(this.#waiting[0]!.bytes)) {
      const next = this.#waiting.shift()!;
      this.#reserve(next.bytes);
      next.admit();
    }
  }

  #canAdmit(bytes: number): boolean {
    if (this.#messages === 0) return true;
    return this.#messages < this.#maxMessages && this.#bytes + bytes <= this.#maxBytes;
  }

  #reserve(bytes: number): void {
    this.#messages += 1;
    this.#bytes += bytes;
  }
}
