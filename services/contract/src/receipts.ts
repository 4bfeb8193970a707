import { createHash } from 'node:crypto';
import type { ConsumerName } from './topology.ts';

// What the consumers record in Firestore, and what the ingest's status endpoint reads back. An
// event is identified by (source, id), as CloudEvents defines, so its receipt lives under a key
// derived from both: one document per event, with one entry per consumer that has processed it.

export const collections = {
  /** One document per event: `EventReceipt`. */
  receipts: 'event-receipts',
  /** The push consumer's effect: one onboarding record per event. */
  onboarding: 'onboarding',
  /** The pull worker's effect: one directory entry per person. */
  people: 'people',
} as const;

export type ConsumerStatus = 'processed' | 'stale';

export interface ConsumerRecord {
  status: ConsumerStatus;
  /** RFC 3339 time at which the consumer recorded the event. */
  at: string;
}

export interface EventReceipt {
  id: string;
  source: string;
  type: string;
  consumers: Partial<Record<ConsumerName, ConsumerRecord>>;
}

/** Firestore document id for the event (source, id): fixed length, and free of "/". */
export function eventKey(source: string, id: string): string {
  return createHash('sha256').update(source).update('\u0000').update(id).digest('hex');
}
