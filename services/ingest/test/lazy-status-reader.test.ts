import { Firestore } from '@google-cloud/firestore';
import { collections, eventKey } from '@hr-events/contract';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueProjectId } from '../../../test/support/project.ts';
import { LazyFirestoreStatusReader } from '../src/lazy-status-reader.ts';
import { createTestApp, getAs, jsonOf } from './support/harness.ts';

// The status reader that the server uses: it creates its Firestore client on the first read, so
// the reads here go through that load against the Firestore emulator.

const projectId = uniqueProjectId('ingest-lazy-status');
const [host, port] = inject('firestoreEmulatorHost').split(':') as [string, string];
const settings = { projectId, host, port: Number(port), ssl: false };
const at = '2027-01-01T09:00:03.250Z';
let writer: Firestore;

beforeAll(async () => {
  writer = new Firestore(settings);
  await writer
    .collection(collections.receipts)
    .doc(eventKey('hr-system', 'lazy-1'))
    .set({ id: 'lazy-1', source: 'hr-system', type: 'hr.employee.hired', consumers: { onboarding: { status: 'processed', at } } });
});

afterAll(async () => {
  await writer?.terminate();
});

describe('LazyFirestoreStatusReader', () => {
  it('first read loads the client and finds the receipt', async () => {
    const statusReader = new LazyFirestoreStatusReader(settings);
    const { app } = createTestApp({ statusReader });

    const response = await getAs(app, '/v1/events/lazy-1');
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({ id: 'lazy-1', source: 'hr-system', consumers: { onboarding: { status: 'processed', at } } });

    const missing = await getAs(app, '/v1/events/lazy-missing');
    expect(missing.status).toBe(404);
    await statusReader.close();
  });

  it('concurrent first reads share one client', async () => {
    const statusReader = new LazyFirestoreStatusReader(settings);
    const results = await Promise.all([statusReader.findReceipts('lazy-1', undefined), statusReader.findReceipts('lazy-1', 'hr-system')]);
    expect(results.map((receipts) => receipts.map((receipt) => receipt.id))).toEqual([['lazy-1'], ['lazy-1']]);
    await statusReader.close();
  });

  it('close without a read does nothing', async () => {
    await expect(new LazyFirestoreStatusReader(settings).close()).resolves.toBeUndefined();
  });
});
