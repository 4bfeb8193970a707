// The request every load generator sends: one valid `hr.employee.hired` event in structured mode.
// Each request gets its own event id and person id. One person id for every request would put all
// messages on one ordering key, and Pub/Sub delivers one key's messages one after another.

/** A source that the benchmark's principal in config/local-sources.json may send. */
export const eventSource = 'hr-system';
export const eventContentType = 'application/cloudevents+json';
export const eventsPath = '/v1/events';

const idPlaceholder = '\u0000ID\u0000';

// The body is cut around the two places where the id goes, so each request costs two string
// concatenations in the load generator rather than a JSON.stringify.
const [beforeEventId, beforePersonId, afterPersonId] = JSON.stringify({
  specversion: '1.0',
  id: idPlaceholder,
  source: eventSource,
  type: 'hr.employee.hired',
  time: '2027-01-01T09:00:00Z',
  datacontenttype: 'application/json',
  data: {
    personId: `P-${idPlaceholder}`,
    givenName: 'Ada',
    familyName: 'Lovelace',
    workEmail: 'ada.lovelace@example.com',
    startDate: '2027-01-04',
    department: 'Engineering',
    managerId: 'P-1000',
    employmentType: 'full_time',
  },
}).split(JSON.stringify(idPlaceholder).slice(1, -1)) as [string, string, string];

/** Returns the request body of event `id`, whose person id is `P-<id>`. */
export function hiredEventBody(id: string): string {
  return beforeEventId + id + beforePersonId + id + afterPersonId;
}

/** Returns an id prefix that keeps the ids of one load run apart from every other run's on the same emulators. */
export function runIdPrefix(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}
