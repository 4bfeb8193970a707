import { Firestore, type Timestamp } from '@google-cloud/firestore';
import { collections, type ConsumerName } from '@hr-events/contract';

// Watches what the consumers record in the `event-receipts` collection with a Firestore listener,
// so the time each event is seen is not rounded up to a polling interval. Each record has three
// times, in milliseconds since the epoch on this machine's clock. The consumer sets its `at` just
// before its write, Firestore sets the document's update time when the write commits, and the
// listener here delivers the change last.

export interface EventRecording {
  /** Each consumer's `at`. */
  at: Partial<Record<ConsumerName, number>>;
  /** Commit time of the write that first showed each consumer's entry. */
  committedAt: Partial<Record<ConsumerName, number>>;
  /** Commit time of the write that completed both entries. */
  bothCommittedAtMs?: number;
  /** When the listener delivered both entries. */
  bothSeenAtMs?: number;
}

interface ReceiptDocument {
  id?: string;
  consumers?: Partial<Record<ConsumerName, { at?: string | Timestamp }>>;
}

const consumers: ConsumerName[] = ['onboarding', 'directory'];

export class ReceiptWatcher {
  readonly firestore: Firestore;

  /** By event id. */
  readonly recordings = new Map<string, EventRecording>();

  readonly counts: Record<ConsumerName, number> = { onboarding: 0, directory: 0 };

  /** Receipts whose entry for a consumer changed after it was first written: the event was recorded twice. */
  readonly rerecorded: Record<ConsumerName, number> = { onboarding: 0, directory: 0 };

  private readonly unsubscribe: () => void;

  private listenerError: Error | undefined;

  private readonly changeWaiters = new Set<() => void>();

  /** Starts listening in `projectId`; FIRESTORE_EMULATOR_HOST aims the client at the emulator. */
  constructor(projectId: string) {
    this.firestore = new Firestore({ projectId });
    this.unsubscribe = this.firestore.collection(collections.receipts).onSnapshot(
      (snapshot) => {
        const seenAt = performance.timeOrigin + performance.now();
        for (const change of snapshot.docChanges()) {
          if (change.type !== 'removed') this.record(change.doc.data() as ReceiptDocument, change.doc.updateTime.toMillis(), seenAt);
        }
        for (const wake of this.changeWaiters) wake();
      },
      (error) => {
        this.listenerError = error;
        for (const wake of this.changeWaiters) wake();
      },
    );
  }

  /** Resolves with true once `isDone` returns true after a change, or with false after `timeoutMillis`. */
  async waitUntil(isDone: () => boolean, timeoutMillis: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMillis;
    while (!isDone()) {
      if (this.listenerError !== undefined) throw new Error(`The Firestore listener on ${collections.receipts} failed: ${this.listenerError.message}`);
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, Math.min(remaining, 1_000));
        function wake() {
          clearTimeout(timer);
          resolve();
        }
        this.changeWaiters.add(wake);
      });
      this.changeWaiters.clear();
    }
    return true;
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    await this.firestore.terminate();
  }

  private record(document: ReceiptDocument, committedAt: number, seenAt: number): void {
    if (typeof document.id !== 'string') return;
    let recording = this.recordings.get(document.id);
    if (recording === undefined) {
      recording = { at: {}, committedAt: {} };
      this.recordings.set(document.id, recording);
    }
    for (const consumer of consumers) {
      const at = document.consumers?.[consumer]?.at;
      if (at === undefined) continue;
      const atMillis = typeof at === 'string' ? Date.parse(at) : at.toMillis();
      const firstAt = recording.at[consumer];
      if (firstAt === undefined) {
        recording.at[consumer] = atMillis;
        recording.committedAt[consumer] = committedAt;
        this.counts[consumer] += 1;
      } else if (firstAt !== atMillis) {
        this.rerecorded[consumer] += 1;
      }
    }
    if (recording.bothSeenAtMs === undefined && consumers.every((consumer) => recording.at[consumer] !== undefined)) {
      recording.bothCommittedAtMs = committedAt;
      recording.bothSeenAtMs = seenAt;
    }
  }
}
