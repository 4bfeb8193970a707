import type { Firestore } from '@google-cloud/firestore';
import { collections, eventKey, type ConsumerRecord, type EventReceipt, type HrCloudEvent } from '@hr-events/contract';
import { compareEvents, type EventReference } from './event-order.ts';

// The directory's effect: one Firestore document per person (id = personId) holding the fields of
// the newest event about that person, plus a receipt per event. Both are written in one
// transaction, so an event is either recorded with its effect or not recorded at all, and a
// redelivered event finds its receipt and changes nothing.

/**
 * Result of recording an event. `processed`: the person document now shows the event. `stale`:
 * the directory already had a newer event for the person, so only the receipt was written.
 * `duplicate`: the directory had already recorded this (source, id), so nothing was written.
 */
export type DirectoryOutcome = 'processed' | 'stale' | 'duplicate';

export interface DirectoryStore {
  /** Records the event in one transaction. Throws when Firestore fails, so that the caller can nack. */
  record(event: HrCloudEvent, recordedAt: Date): Promise<DirectoryOutcome>;
}

/** A person document: every data field of the newest event, and `lastEvent`, which names it. */
export interface PersonDocument {
  [dataField: string]: string | EventReference;
  lastEvent: EventReference;
}

const consumer = 'directory';

export class FirestoreDirectoryStore implements DirectoryStore {
  readonly #firestore: Firestore;

  constructor(firestore: Firestore) {
    this.#firestore = firestore;
  }

  async record(event: HrCloudEvent, recordedAt: Date): Promise<DirectoryOutcome> {
    const personId = event.data.personId;
    if (personId === undefined) throw new Error(`Event ${event.id} from ${event.source} has no personId; the person schema requires one.`);
    const receiptRef = this.#firestore.collection(collections.receipts).doc(eventKey(event.source, event.id));
    const personRef = this.#firestore.collection(collections.people).doc(personId);
    const incoming: EventReference = { id: event.id, source: event.source, type: event.type, time: event.time };

    // Firestore runs the function again when another transaction changed what it read, so the
    // decision is always taken on the current documents.
    return this.#firestore.runTransaction(async (transaction) => {
      const [receiptSnapshot, personSnapshot] = await transaction.getAll(receiptRef, personRef);
      const receipt = receiptSnapshot?.data() as Partial<EventReceipt> | undefined;
      if (receipt?.consumers?.[consumer] !== undefined) return 'duplicate';

      const current = (personSnapshot?.data() as Partial<PersonDocument> | undefined)?.lastEvent;
      const isNewer = current === undefined || !isEventReference(current) || compareEvents(incoming, current) > 0;
      const status: ConsumerRecord['status'] = isNewer ? 'processed' : 'stale';

      if (isNewer) {
        // Replace the whole document: fields that the newer event no longer carries (a type's own
        // fields, after the person changed type) must not linger. `lastEvent` is set last, so a
        // data field of that name could never hide it.
        const document: PersonDocument = { ...event.data, lastEvent: incoming };
        transaction.set(personRef, document);
      }

      // Merge, because the push consumer writes `consumers.onboarding` into the same receipt.
      const update: EventReceipt = {
        id: event.id,
        source: event.source,
        type: event.type,
        consumers: { [consumer]: { status, at: recordedAt.toISOString() } },
      };
      transaction.set(receiptRef, update, { merge: true });
      return status;
    });
  }
}

function isEventReference(value: unknown): value is EventReference {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return ['id', 'source', 'type', 'time'].every((field) => typeof candidate[field] === 'string');
}
