import type { Catalog, ConsumerRecord, HrCloudEvent } from '@hr-events/contract';
import { buildChecklist, type ChecklistItem } from './checklist.ts';

// What the push consumer writes for one event: the onboarding record (its effect) and its entry
// in the event's receipt. Both are built from the catalog's field lists, never from the event type.

export interface OnboardingRecord {
  eventId: string;
  source: string;
  type: string;
  /** The event's `time`, RFC 3339. */
  eventTime: string;
  /** The person fields every event carries, as listed by the catalog. */
  person: Record<string, string>;
  /** The fields specific to the event's type. */
  details: Record<string, string>;
  checklist: ChecklistItem[];
  /** Pub/Sub message id of the delivery that created the record. */
  messageId: string;
  /** RFC 3339 time at which the record was written. */
  createdAt: string;
}

/** The fields merged into `collections.receipts`; other consumers' entries are left as they are. */
export interface OnboardingReceipt {
  id: string;
  source: string;
  type: string;
  consumers: { onboarding: ConsumerRecord };
}

export function buildOnboardingRecord(event: HrCloudEvent, catalog: Catalog, messageId: string, now: Date): OnboardingRecord {
  const person: Record<string, string> = {};
  const details: Record<string, string> = {};
  for (const [field, value] of Object.entries(event.data)) {
    if (catalog.personFields.includes(field)) person[field] = value;
    else details[field] = value;
  }
  return {
    eventId: event.id,
    source: event.source,
    type: event.type,
    eventTime: event.time,
    person,
    details,
    checklist: buildChecklist(event),
    messageId,
    createdAt: now.toISOString(),
  };
}

export function buildOnboardingReceipt(event: HrCloudEvent, now: Date): OnboardingReceipt {
  return {
    id: event.id,
    source: event.source,
    type: event.type,
    consumers: { onboarding: { status: 'processed', at: now.toISOString() } },
  };
}
