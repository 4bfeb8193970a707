import { describe, expect, it } from 'vitest';
import type { HrCloudEvent } from '@hr-events/contract';
import { buildChecklist } from './checklist.ts';

function event(type: string, data: Record<string, string>): HrCloudEvent {
  return { specversion: '1.0', id: 'e-1', source: 'hr-system', type, time: '2026-12-01T08:00:00Z', extensions: {}, data };
}

describe('buildChecklist', () => {
  it('dates the first-week items from the start date', () => {
    const items = buildChecklist(event('hr.employee.hired', { startDate: '2027-03-01' }));
    expect(items.map((item) => [item.id, item.dueDate])).toEqual([
      ['prepare-workstation', '2027-02-26'],
      ['create-accounts', '2027-02-27'],
      ['welcome-meeting', '2027-03-01'],
      ['meet-the-team', '2027-03-02'],
      ['first-week-review', '2027-03-05'],
    ]);
    expect(items.every((item) => item.status === 'open' && item.title.length > 0)).toBe(true);
  });

  it('adds an offboarding reminder for any type with an end date', () => {
    const items = buildChecklist(event('hr.intern.placed', { startDate: '2027-01-11', endDate: '2027-06-30' }));
    expect(items).toHaveLength(6);
    expect(items.at(-1)).toMatchObject({ id: 'offboarding-reminder', dueDate: '2027-06-16' });
  });

  it('moves the reminder of a short engagement to the first day', () => {
    const items = buildChecklist(event('hr.contractor.engaged', { startDate: '2027-01-11', endDate: '2027-01-15' }));
    expect(items.at(-1)).toMatchObject({ id: 'offboarding-reminder', dueDate: '2027-01-11' });
  });

  it('falls back to the event time without a start date', () => {
    const items = buildChecklist(event('hr.employee.hired', {}));
    expect(items.find((item) => item.id === 'welcome-meeting')?.dueDate).toBe('2026-12-01');
  });
});
