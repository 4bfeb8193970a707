import type { HrCloudEvent } from '@hr-events/contract';

// The first-week checklist of an onboarding record. It is derived from fields, never from the
// event type, so a type added to the schema catalog gets a checklist without a change here. Every
// event gets the first-week items, dated from `startDate`. An event with an `endDate` also gets an
// offboarding reminder.

export interface ChecklistItem {
  id: string;
  title: string;
  /** Calendar date (YYYY-MM-DD) by which the item should be done. */
  dueDate: string;
  status: 'open';
}

const firstWeekItems = [
  { id: 'prepare-workstation', title: 'Prepare the workstation and equipment', daysFromStart: -3 },
  { id: 'create-accounts', title: 'Create the work accounts and access rights', daysFromStart: -2 },
  { id: 'welcome-meeting', title: 'Hold the welcome meeting with the manager', daysFromStart: 0 },
  { id: 'meet-the-team', title: 'Introduce the newcomer to the department', daysFromStart: 1 },
  { id: 'first-week-review', title: 'Review the first week with the manager', daysFromStart: 4 },
];

const offboardingItem = { id: 'offboarding-reminder', title: 'Plan the offboarding: equipment return and access removal', daysBeforeEnd: 14 };

const isoDatePattern = /^\d{4}-\d{2}-\d{2}$/;

export function buildChecklist(event: HrCloudEvent): ChecklistItem[] {
  // The event time replaces a missing start date, which happens only if a future catalog drops `startDate`.
  const startDate = isoDate(event.data.startDate) ?? event.time.slice(0, 10);
  const items: ChecklistItem[] = firstWeekItems.map((item) => ({
    id: item.id,
    title: item.title,
    dueDate: addDays(startDate, item.daysFromStart),
    status: 'open',
  }));

  const endDate = isoDate(event.data.endDate);
  if (endDate !== undefined) {
    // A short engagement would put the reminder before the first day; it is then due on the first day.
    const reminder = addDays(endDate, -offboardingItem.daysBeforeEnd);
    items.push({ id: offboardingItem.id, title: offboardingItem.title, dueDate: reminder < startDate ? startDate : reminder, status: 'open' });
  }
  return items;
}

function isoDate(value: string | undefined): string | undefined {
  return value !== undefined && isoDatePattern.test(value) ? value : undefined;
}

/** Adds whole days to a calendar date, in UTC so that no time zone shifts the result. */
function addDays(date: string, days: number): string {
  const result = new Date(`${date}T00:00:00Z`);
  result.setUTCDate(result.getUTCDate() + days);
  return result.toISOString().slice(0, 10);
}
