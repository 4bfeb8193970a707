import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudEvent, HTTP } from 'cloudevents';

// `npm run demo`: sends a realistic set of HR events to a running ingest (INGEST_URL, default the
// local stack) from both sources, in structured, binary and batched mode, plus one invalid event,
// then prints each event's status until both consumers have processed it. The requests are built
// with the official CloudEvents SDK, as a source team would build them.

const ingestUrl = (process.env.INGEST_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const run = Date.now().toString(36);
const consumers = ['onboarding', 'directory'];

interface Sent {
  id: string;
  source: string;
  type: string;
  mode: string;
}

function hire(personId: string, givenName: string, familyName: string, department: string, employmentType: string) {
  return {
    personId,
    givenName,
    familyName,
    workEmail: `${givenName}.${familyName}@example.com`.toLowerCase(),
    startDate: '2027-01-04',
    department,
    managerId: 'P-1000',
    employmentType,
  };
}

function engagement(personId: string, givenName: string, familyName: string, vendor: string) {
  return {
    personId,
    givenName,
    familyName,
    workEmail: `${givenName}.${familyName}@contractors.example.com`.toLowerCase(),
    startDate: '2027-01-11',
    endDate: '2027-06-30',
    department: 'Facilities',
    managerId: 'P-1001',
    vendor,
  };
}

function event(source: string, type: string, data: Record<string, string>): CloudEvent<Record<string, string>> {
  return new CloudEvent({ id: `demo-${run}-${randomUUID().slice(0, 8)}`, source, type, subject: data.personId, datacontenttype: 'application/json', data });
}

async function post(headers: Record<string, string>, body: string): Promise<Response> {
  try {
    return await fetch(`${ingestUrl}/v1/events`, { method: 'POST', headers, body });
  } catch (error) {
    console.error(`Cannot reach the ingest at ${ingestUrl} (${(error as Error).message}). Start the local stack with npm start, or set INGEST_URL.`);
    process.exit(1);
  }
}

async function send(mode: string, message: { headers: Record<string, unknown>; body: unknown }, events: CloudEvent<Record<string, string>>[], sent: Sent[]): Promise<void> {
  const response = await post(message.headers as Record<string, string>, String(message.body));
  const answer = await response.text();
  console.log(`${mode.padEnd(10)} ${events.map((item) => item.type).join(', ')} -> ${response.status} ${answer}`);
  if (response.status === 202) {
    for (const item of events) sent.push({ id: item.id, source: item.source, type: item.type, mode });
  }
}

const sent: Sent[] = [];
console.log(`Sending demo events to ${ingestUrl}`);

const ada = event('hr-system', 'hr.employee.hired', hire(`P-${run}-1`, 'Ada', 'Lovelace', 'Engineering', 'full_time'));
await send('structured', HTTP.structured(ada), [ada], sent);

const grace = event('vendor-office', 'hr.contractor.engaged', engagement(`P-${run}-2`, 'Grace', 'Hopper', 'Acme Staffing'));
await send('binary', HTTP.binary(grace), [grace], sent);

const batch = [
  event('hr-system', 'hr.employee.hired', hire(`P-${run}-3`, 'Alan', 'Turing', 'Research', 'part_time')),
  event('hr-system', 'hr.employee.hired', hire(`P-${run}-4`, 'Katherine', 'Johnson', 'Research', 'intern')),
  event('vendor-office', 'hr.contractor.engaged', engagement(`P-${run}-5`, 'Edsger', 'Dijkstra', 'Northwind Contractors')),
];
await send(
  'batch',
  { headers: { 'content-type': 'application/cloudevents-batch+json' }, body: JSON.stringify(batch.map((item) => item.toJSON())) },
  batch,
  sent,
);

// An invalid event: the ingest answers 400 with every problem, and nothing is published.
const invalid = {
  specversion: '1.0',
  id: `demo-${run}-invalid`,
  source: 'vendor-office',
  type: 'hr.contractor.engaged',
  data: { personId: `P-${run}-6`, givenName: 'Linus', workEmail: 'not-an-email', startDate: '2027-02-01', endDate: '2027-01-01' },
};
const rejected = await post({ 'content-type': 'application/cloudevents+json' }, JSON.stringify(invalid));
console.log(`invalid    hr.contractor.engaged -> ${rejected.status} ${await rejected.text()}`);

console.log('\nWaiting for both consumers to record each accepted event...');
const pending = new Map(sent.map((item) => [`${item.source} ${item.id}`, item]));
const deadline = Date.now() + 60_000;
while (pending.size > 0 && Date.now() < deadline) {
  for (const [key, item] of pending) {
    const response = await fetch(`${ingestUrl}/v1/events/${encodeURIComponent(item.id)}?source=${encodeURIComponent(item.source)}`);
    if (response.status !== 200) continue;
    const status = (await response.json()) as { consumers: Record<string, { status: string; at: string }> };
    if (consumers.every((name) => status.consumers[name] !== undefined)) {
      const parts = consumers.map((name) => `${name}: ${status.consumers[name]!.status} at ${status.consumers[name]!.at}`);
      console.log(`${item.source.padEnd(13)} ${item.type.padEnd(22)} ${item.mode.padEnd(10)} ${item.id}  ${parts.join(', ')}`);
      pending.delete(key);
    }
  }
  if (pending.size > 0) await sleep(250);
}
if (pending.size > 0) {
  console.error(`${pending.size} event(s) were not processed by both consumers within 60 s: ${[...pending.keys()].join('; ')}`);
  process.exit(1);
}
console.log(`\nAll ${sent.length} accepted events were processed by both consumers.`);
