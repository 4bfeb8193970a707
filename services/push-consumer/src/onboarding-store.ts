import type { Firestore } from '@google-cloud/firestore';
import { collections } from '@hr-events/contract';
import type { OnboardingReceipt, OnboardingRecord } from './onboarding-record.ts';

// The push consumer's effect in Firestore. The onboarding record and the receipt are written in one
// atomic batch, and the record with create(), which fails with ALREADY_EXISTS when a document with
// the event's key exists. So a redelivery, a second publish of the same event, or a delivery that
// overlaps the first attempt leaves exactly one record, and the receipt never records "processed"
// without it.

export type RecordOutcome = 'created' | 'duplicate';

export interface OnboardingStore {
  /** Stores the record under `key` and merges the receipt, once per key. */
  recordOnboarding(key: string, record: OnboardingRecord, receipt: OnboardingReceipt): Promise<RecordOutcome>;
  close(): Promise<void>;
}

export interface FirestoreOnboardingStoreOptions {
  /**
   * Maximum wait for the commit. It stays well under the push subscription's ack deadline (60 s),
   * so Pub/Sub receives the 503 response and retries, instead of timing out the request.
   */
  commitTimeoutMillis?: number;
}

const grpcStatus = { alreadyExists: 6, resourceExhausted: 8 } as const;

/** The store failed in a way that a later delivery may not: Pub/Sub should retry the message. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';

  /** gRPC status code from Firestore; undefined for a timeout. */
  readonly code: number | undefined;

  /** Firestore returned RESOURCE_EXHAUSTED, so the caller should slow down (HTTP 429). */
  readonly rateLimited: boolean;

  constructor(message: string, code: number | undefined, cause: unknown) {
    super(message, { cause });
    this.code = code;
    this.rateLimited = code === grpcStatus.resourceExhausted;
  }
}

export const defaultCommitTimeoutMillis = 20_000;

export class FirestoreOnboardingStore implements OnboardingStore {
  private readonly firestore: Firestore;
  private readonly commitTimeoutMillis: number;

  constructor(firestore: Firestore, options: FirestoreOnboardingStoreOptions = {}) {
    this.firestore = firestore;
    this.commitTimeoutMillis = options.commitTimeoutMillis ?? defaultCommitTimeoutMillis;
  }

  async recordOnboarding(key: string, record: OnboardingRecord, receipt: OnboardingReceipt): Promise<RecordOutcome> {
    const batch = this.firestore.batch();
    batch.create(this.firestore.collection(collections.onboarding).doc(key), record);
    // Merge, because the pull worker writes consumers.directory into the same document.
    batch.set(this.firestore.collection(collections.receipts).doc(key), receipt, { merge: true });

    try {
      await withTimeout(batch.commit(), this.commitTimeoutMillis);
      return 'created';
    } catch (error) {
      const code = grpcCode(error);
      if (code === grpcStatus.alreadyExists) return 'duplicate';
      if (error instanceof CommitTimeoutError) {
        throw new StoreUnavailableError(`Firestore commit timed out after ${this.commitTimeoutMillis} ms`, undefined, error);
      }
      // Errors without a gRPC code are programming errors (such as an undefined field), not outages.
      if (code === undefined) throw error;
      throw new StoreUnavailableError(`Firestore commit failed with gRPC code ${code}: ${(error as Error).message}`, code, error);
    }
  }

  async close(): Promise<void> {
    await this.firestore.terminate();
  }
}

class CommitTimeoutError extends Error {}

/**
 * Rejects after `timeoutMillis`. The commit itself cannot be cancelled and may still land; the
 * redelivery then finds the record and is acknowledged as a duplicate.
 */
async function withTimeout<T>(operation: Promise<T>, timeoutMillis: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CommitTimeoutError()), timeoutMillis);
  });
  // A commit that fails after the timeout is ignored, because the push request already has its 503 response.
  operation.catch(() => {});
  try {
    return await Promise.race([operation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
