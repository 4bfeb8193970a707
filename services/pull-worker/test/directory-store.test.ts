import { Firestore } from '@google-cloud/firestore';
import { afterAll, describe, expect, it } from 'vitest';
import { collections, eventKey, type HrCloudEvent } from '@hr-events/contract';
import { FirestoreDirectoryStore } from '../src/directory-store.ts';
import { uniqueProjectId } from '../../../test/support/project.ts';

// The directory transaction against the Firestore emulator: newest time wins, ties, duplicates,
// and the receipt shared with the push consumer.

const firestore = new Firestore({ projectId: uniqueProjectId('directory-store') });
const store = new FirestoreDirectoryStore(firestore);
const recordedAt = new Date('2027-01-05T12:00:00Z');

afterAll(() => firestore.terminate());

function event(personId: string, id: string, time: string, data: Record<string, string> = {}): HrCloudEvent {
  return {
    specversion: '1.0',
    id,
    source: 'hr-system',
    type: 'hr.employee.hired',
    time,
    extensions: {},
    data: {
      personId,
      givenName: 'Ada',
      familyName: 'Lovelace',
      workEmail: 'ada@example.com',
      startDate: '2027-01-04',
      department: 'Engineering',
      managerId: 'P-9',
      employmentType: 'full_time',
      ...data,
    },
  };
}

async function person(personId: string) {
  return (await firestore.collection(collections.people).doc(personId).get()).data();
}

async function receipt(source: string, id: string) {
  return (await firestore.collection(collections.receipts).doc(eventKey(source, id)).get()).data();
}

describe('FirestoreDirectoryStore', () => {
  it('first event creates person and receipt', async () => {
    const hired = event('P-first', 'e-1', '2027-01-04T09:00:00Z');

    expect(await store.record(hired, recordedAt)).toBe('processed');

    expect(await person('P-first')).toEqual({
      ...hired.data,
      lastEvent: { id: 'e-1', source: 'hr-system', type: 'hr.employee.hired', time: '2027-01-04T09:00:00Z' },
    });
    expect(await receipt('hr-system', 'e-1')).toEqual({
      id: 'e-1',
      source: 'hr-system',
      type: 'hr.employee.hired',
      consumers: { directory: { status: 'processed', at: '2027-01-05T12:00:00.000Z' } },
    });
  });

  it('newer event replaces the whole document', async () => {
    await store.record(event('P-newer', 'e-1', '2027-01-04T09:00:00Z'), recordedAt);
    const { employmentType: _employeeOnly, ...personFields } = event('P-newer', 'e-2', '').data;
    const engaged: HrCloudEvent = {
      ...event('P-newer', 'e-2', '2027-01-04T10:00:00+00:30'),
      type: 'hr.contractor.engaged',
      data: { ...personFields, department: 'Research', endDate: '2027-06-30', vendor: 'Acme' },
    };

    expect(await store.record(engaged, recordedAt)).toBe('processed');

    const document = await person('P-newer');
    expect(document).toMatchObject({ department: 'Research', endDate: '2027-06-30', vendor: 'Acme', lastEvent: { id: 'e-2', type: 'hr.contractor.engaged' } });
    expect(document).not.toHaveProperty('employmentType');
  });

  it('older event is stale and changes nothing', async () => {
    // 10:30+02:00 is 08:30 UTC: earlier than the stored 09:00 UTC although its text sorts later.
    await store.record(event('P-stale', 'e-new', '2027-01-04T09:00:00Z', { department: 'Current' }), recordedAt);
    const before = await person('P-stale');

    expect(await store.record(event('P-stale', 'e-old', '2027-01-04T10:30:00+02:00', { department: 'Outdated' }), recordedAt)).toBe('stale');

    expect(await person('P-stale')).toEqual(before);
    expect((await receipt('hr-system', 'e-old'))?.consumers).toEqual({ directory: { status: 'stale', at: '2027-01-05T12:00:00.000Z' } });
  });

  it('equal times: greater event key wins in either order', async () => {
    // Two pairs of events at one instant, written in opposite orders. Ids differ per pair because a
    // receipt is per (source, id).
    for (const [personId, order] of [['P-tie-1', 'forward'], ['P-tie-2', 'reverse']] as const) {
      const a = event(personId, `${personId}-a`, '2027-01-04T09:00:00Z', { department: 'A' });
      const b = event(personId, `${personId}-b`, '2027-01-04T10:00:00+01:00', { department: 'B' });
      const [winner, loser] = eventKey(a.source, a.id) > eventKey(b.source, b.id) ? [a, b] : [b, a];

      for (const each of order === 'forward' ? [a, b] : [b, a]) await store.record(each, recordedAt);

      expect((await person(personId))?.department, personId).toBe(winner.data.department);
      expect((await receipt(loser.source, loser.id))?.consumers?.directory?.status, personId).toBe('stale');
    }
  });

  it('duplicate has no second effect', async () => {
    await store.record(event('P-dup', 'e-dup', '2027-01-04T09:00:00Z', { department: 'First' }), recordedAt);
    const later = new Date('2027-01-06T12:00:00Z');

    // Same (source, id), different data: the directory must not apply it again.
    const outcome = await store.record(event('P-dup', 'e-dup', '2027-01-04T09:00:00Z', { department: 'Second' }), later);

    expect(outcome).toBe('duplicate');
    expect((await person('P-dup'))?.department).toBe('First');
    expect((await receipt('hr-system', 'e-dup'))?.consumers).toEqual({ directory: { status: 'processed', at: '2027-01-05T12:00:00.000Z' } });
  });

  it('receipt keeps the push consumer entry', async () => {
    const onboarding = { status: 'processed', at: '2027-01-05T11:00:00.000Z' };
    await firestore
      .collection(collections.receipts)
      .doc(eventKey('hr-system', 'e-shared'))
      .set({ id: 'e-shared', source: 'hr-system', type: 'hr.employee.hired', consumers: { onboarding } });

    expect(await store.record(event('P-shared', 'e-shared', '2027-01-04T09:00:00Z'), recordedAt)).toBe('processed');

    expect((await receipt('hr-system', 'e-shared'))?.consumers).toEqual({ onboarding, directory: { status: 'processed', at: '2027-01-05T12:00:00.000Z' } });
  });

  it('concurrent events for one person end with the newest', async () => {
    const times = ['2027-01-04T09:00:03Z', '2027-01-04T09:00:01Z', '2027-01-04T09:00:05Z'];
    const events = times.map((time, index) => event('P-race', `race-${index}`, time, { department: `D${index}` }));

    const outcomes = await Promise.all(events.map((each) => store.record(each, recordedAt)));

    expect(outcomes.filter((outcome) => outcome === 'processed').length).toBeGreaterThanOrEqual(1);
    expect(outcomes.every((outcome) => outcome === 'processed' || outcome === 'stale')).toBe(true);
    expect(await person('P-race')).toMatchObject({ department: 'D2', lastEvent: { id: 'race-2', time: '2027-01-04T09:00:05Z' } });
    for (const each of events) expect(await receipt('hr-system', each.id)).toBeDefined();
  });
});
