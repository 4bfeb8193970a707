import { Firestore } from '@google-cloud/firestore';
import { ProblemType, collections, eventKey, type EventReceipt } from '@hr-events/contract';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueProjectId } from '../../../test/support/project.ts';
import { FirestoreStatusReader } from '../src/status.ts';
import { createTestApp, getAs, jsonOf } from './support/harness.ts';

// The status endpoint reading receipts that the consumers would have written to the Firestore
// emulator, stored under the contract's document key.

const projectId = uniqueProjectId('ingest-status');
let firestore: Firestore;
const at = '2027-01-01T09:00:03.250Z';

async function writeReceipt(receipt: EventReceipt): Promise<void> {
  await firestore.collection(collections.receipts).doc(eventKey(receipt.source, receipt.id)).set(receipt);
}

beforeAll(async () => {
  const [host, port] = inject('firestoreEmulatorHost').split(':') as [string, string];
  firestore = new Firestore({ projectId, host, port: Number(port), ssl: false });
  await writeReceipt({
    id: 'st-1',
    source: 'hr-system',
    type: 'hr.employee.hired',
    consumers: { onboarding: { status: 'processed', at }, directory: { status: 'stale', at } },
  });
  await writeReceipt({ id: 'st-2', source: 'hr-system', type: 'hr.employee.hired', consumers: { directory: { status: 'processed', at } } });
  await writeReceipt({ id: 'st-2', source: 'vendor-office', type: 'hr.contractor.engaged', consumers: { onboarding: { status: 'processed', at } } });
});

afterAll(async () => {
  await firestore?.terminate();
});

function appWithFirestore() {
  return createTestApp({ statusReader: new FirestoreStatusReader(firestore) }).app;
}

describe('event status from Firestore', () => {
  it('returns the consumers that recorded the event', async () => {
    const response = await getAs(appWithFirestore(), '/v1/events/st-1');
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({
      id: 'st-1',
      source: 'hr-system',
      consumers: { onboarding: { status: 'processed', at }, directory: { status: 'stale', at } },
    });
  });

  it('unrecorded event is 404', async () => {
    const response = await getAs(appWithFirestore(), '/v1/events/st-missing');
    expect(response.status).toBe(404);
    expect((await jsonOf(response)).type).toBe(ProblemType.notFound);
  });

  it('id of two sources is 409 until a source is given', async () => {
    const app = appWithFirestore();
    const ambiguous = await getAs(app, '/v1/events/st-2');
    expect(ambiguous.status).toBe(409);
    expect((await jsonOf(ambiguous)).sources).toEqual(['hr-system', 'vendor-office']);

    const chosen = await getAs(app, '/v1/events/st-2?source=vendor-office');
    expect(chosen.status).toBe(200);
    expect(await jsonOf(chosen)).toEqual({ id: 'st-2', source: 'vendor-office', consumers: { onboarding: { status: 'processed', at } } });
  });
});
