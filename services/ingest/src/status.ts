import type { Firestore, Timestamp } from '@google-cloud/firestore';
import { collections, consumerNames, type ConsumerRecord, type ConsumerStatus, type EventReceipt } from '@hr-events/contract';

/** Reads what the consumers recorded for an event. */
export interface StatusReader {
  /** The receipts of event `id`, of one source when `source` is given. */
  findReceipts(id: string, source: string | undefined): Promise<EventReceipt[]>;
}

/** Maximum receipts read for one id. More sources than this for the same id are not expected. */
const maxReceiptsPerId = 20;

export class FirestoreStatusReader implements StatusReader {
  private readonly firestore: Firestore;

  constructor(firestore: Firestore) {
    this.firestore = firestore;
  }

  async findReceipts(id: string, source: string | undefined): Promise<EventReceipt[]> {
    let query = this.firestore.collection(collections.receipts).where('id', '==', id);
    if (source !== undefined) query = query.where('source', '==', source);
    const snapshot = await query.limit(maxReceiptsPerId).get();
    return snapshot.docs.map((document) => document.data() as EventReceipt);
  }
}

/** The `consumers` member of an event status: one entry per consumer that has recorded the event. */
export type ConsumerView = Partial<Record<(typeof consumerNames)[number], ConsumerRecord>>;

const statuses = new Set<ConsumerStatus>(['processed', 'stale']);

/**
 * Keeps the well-formed entries of known consumers. A consumer that has recorded nothing is left
 * out, and a Firestore timestamp is returned as RFC 3339 like the string the contract specifies.
 */
export function consumerView(receipt: EventReceipt): ConsumerView {
  const view: ConsumerView = {};
  const recorded = (receipt.consumers ?? {}) as Record<string, { status?: unknown; at?: unknown } | undefined>;
  for (const name of consumerNames) {
    const entry = recorded[name];
    if (entry === undefined || !statuses.has(entry.status as ConsumerStatus)) continue;
    const at = typeof entry.at === 'string' ? entry.at : (entry.at as Timestamp | undefined)?.toDate?.().toISOString();
    if (at !== undefined) view[name] = { status: entry.status as ConsumerStatus, at };
  }
  return view;
}
