import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudEvent, HTTP } from 'cloudevents';

// `npm run demo`: sends a realistic set of HR events to a running ingest (INGEST_URL, default the
// local stack) from both sources, in structured, binary and batched mode. It also sends one invalid
// event, one event the sender may not send and one without credentials. Then it prints each accepted
// event's status until both consumers have processed it. The requests are built with the official
// CloudEvents SDK, as a source team would build them.
//
// Each source authenticates with its API key: HR_SYSTEM_API_KEY and VENDOR_OFFICE_API_KEY when set
// (for a deployed ingest), otherwise the development keys in config/local-sources.json.

const ingestUrl = (process.env.INGEST_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const run = Date.now().toString(36);
const consumers = ['onboarding', 'directory'];
const sourcesFile = process.env.SOURCES_FILE ?? 'config/local-sources.json';
const keys = { 'hr-system': apiKeyOf('hr-system'), 'vendor-office': apiKeyOf('vendor-office') };

/** Returns the key from <NAME>_API_KEY, or else the development key of the local sources file. */
function apiKeyOf(principal: string): string {
  const variable = `${principal.toUpperCase().replaceAll('-', '_')}_API_KEY`;
  const fromEnvironment = process.env[variable];
  if (fromEnvironment) return fromEnvironment;

  let file: { principals?: { name?: string; apiKeys?: { localDevelopmentKey?: string }[] }[] };
  try {
    file = JSON.parse(readFileSync(sourcesFile, 'utf8'));
  } catch (error) {
    console.error(`Cannot read the development keys from ${sourcesFile} (${(error as Error).message}); set ${variable} to the API key of "${principal}".`);
    process.exit(1);
  }
  const key = file.principals?.find((entry) => entry.name === principal)?.apiKeys?.find((entry) => entry.localDevelopmentKey)?.localDevelopmentKey;
  if (key === undefined) {
    console.error(`${sourcesFile} has no development key for "${principal}"; set ${variable} to its API key.`);
    process.exit(1);
  }
  return key;
}

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

async function send(
  mode: string,
  apiKey: string,
  message: { headers: Record<string, unknown>; body: unknown },
  events: CloudEvent<Record<string, string>>[],
  sent: Sent[],
): Promise<void> {
  const response = await post({ ...(message.headers as Record<string, string>), 'x-api-key': apiKey }, String(message.body));
  const answer = await response.text();
  console.log(`${mode.padEnd(10)} ${events.map((item) => item.type).join(', ')} -> ${response.status} ${answer}`);
  if (response.status === 202) {
    for (const item of events) sent.push({ id: item.id, source: item.source, type: item.type, mode });
  }
}

const sent: Sent[] = [];
console.log(`Sending demo events to ${ingestUrl}`);

const ada = event('hr-system', 'hr.employee.hired', hire(`P-${run}-1`, 'Ada', 'Lovelace', 'Engineering', 'full_time'));
await send('structured', keys['hr-system'], HTTP.structured(ada), [ada], sent);

const grace = event('vendor-office', 'hr.contractor.engaged', engagement(`P-${run}-2`, 'Grace', 'Hopper', 'Acme Staffing'));
await send('binary', keys['vendor-office'], HTTP.binary(grace), [grace], sent);

const batchType = { 'content-type': 'application/cloudevents-batch+json' };
const hires = [
  event('hr-system', 'hr.employee.hired', hire(`P-${run}-3`, 'Alan', 'Turing', 'Research', 'part_time')),
  event('hr-system', 'hr.employee.hired', hire(`P-${run}-4`, 'Katherine', 'Johnson', 'Research', 'intern')),
];
await send('batch', keys['hr-system'], { headers: batchType, body: JSON.stringify(hires.map((item) => item.toJSON())) }, hires, sent);

const engagements = [
  event('vendor-office', 'hr.contractor.engaged', engagement(`P-${run}-5`, 'Edsger', 'Dijkstra', 'Northwind Contractors')),
  event('vendor-office', 'hr.contractor.engaged', engagement(`P-${run}-7`, 'Barbara', 'Liskov', 'Northwind Contractors')),
];
await send('batch', keys['vendor-office'], { headers: batchType, body: JSON.stringify(engagements.map((item) => item.toJSON())) }, engagements, sent);

// An invalid event: the ingest responds with 400 and every problem, and nothing is published.
const invalid = {
  specversion: '1.0',
  id: `demo-${run}-invalid`,
  source: 'vendor-office',
  type: 'hr.contractor.engaged',
  data: { personId: `P-${run}-6`, givenName: 'Linus', workEmail: 'not-an-email', startDate: '2027-02-01', endDate: '2027-01-01' },
};
const rejected = await post({ 'content-type': 'application/cloudevents+json', 'x-api-key': keys['vendor-office'] }, JSON.stringify(invalid));
console.log(`invalid    hr.contractor.engaged -> ${rejected.status} ${await rejected.text()}`);

// The vendor office's key may not announce a hire, nor claim the HR system as its source: 403.
const impostor = event('hr-system', 'hr.employee.hired', hire(`P-${run}-8`, 'Mallory', 'Doe', 'Finance', 'full_time'));
const forbidden = await post({ ...(HTTP.structured(impostor).headers as Record<string, string>), 'x-api-key': keys['vendor-office'] }, JSON.stringify(impostor));
console.log(`forbidden  hr.employee.hired from the vendor office's key -> ${forbidden.status} ${await forbidden.text()}`);

// Without credentials the ingest responds with 401 before it reads the body.
const anonymous = await post({ 'content-type': 'application/cloudevents+json' }, JSON.stringify(ada));
console.log(`anonymous  hr.employee.hired without a key -> ${anonymous.status} ${await anonymous.text()}`);

console.log('\nWaiting for both consumers to record each accepted event...');
const pending = new Map(sent.map((item) => [`${item.source} ${item.id}`, item]));
const deadline = Date.now() + 60_000;
while (pending.size > 0 && Date.now() < deadline) {
  for (const [key, item] of pending) {
    const headers = { 'x-api-key': keys[item.source as keyof typeof keys] };
    const response = await fetch(`${ingestUrl}/v1/events/${encodeURIComponent(item.id)}?source=${encodeURIComponent(item.source)}`, { headers });
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
