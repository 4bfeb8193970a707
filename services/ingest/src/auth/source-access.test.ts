import { createApiKey, createLogger, principalAttribute, ProblemType, type EventReceipt, type SourcePrincipal } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { engagedEvent, hiredData, hiredEvent } from '../../test/support/fixtures.ts';
import { createTestApp, InMemoryPublisher, InMemoryStatusReader, jsonOf } from '../../test/support/harness.ts';
import { createTokenSigner, idTokenClaims, testAudience, type TokenSigner } from '../../test/support/id-tokens.ts';
import type { StatusReader } from '../status.ts';
import { SourceAccess } from './source-access.ts';

// The access checks as a source meets them: through the app, with real keys, tokens signed by a
// key pair of the test, and the in-memory publisher to show what was published.

const hrKey = createApiKey('hr-system', 'k1');
const vendorKey = createApiKey('vendor-office', 'k1');
const limitedKey = createApiKey('limited', 'k1');
const hrServiceAccount = 'hr-sync@hr-project.iam.gserviceaccount.com';

function principal(name: string, fields: Partial<SourcePrincipal>): SourcePrincipal {
  return { name, sources: [name], types: [], rateLimit: { eventsPerSecond: 1000, burst: 1000 }, apiKeys: [], serviceAccounts: [], ...fields };
}

const principals: SourcePrincipal[] = [
  principal('hr-system', { types: ['hr.employee.hired'], apiKeys: [{ id: 'k1', sha256: hrKey.sha256 }], serviceAccounts: [hrServiceAccount] }),
  principal('vendor-office', { types: ['hr.contractor.engaged'], apiKeys: [{ id: 'k1', sha256: vendorKey.sha256 }] }),
  principal('limited', { sources: ['hr-system'], types: ['hr.employee.hired'], rateLimit: { eventsPerSecond: 2, burst: 3 }, apiKeys: [{ id: 'k1', sha256: limitedKey.sha256 }] }),
];

interface AccessAppOptions {
  signer?: TokenSigner;
  statusReader?: StatusReader;
}

/** Builds the app with these principals, a clock the test moves and a publisher the test reads. */
function accessApp(options: AccessAppOptions = {}) {
  let nowMillis = 0;
  const publisher = new InMemoryPublisher();
  const sourceAccess = new SourceAccess({
    sources: { principals },
    audiences: [testAudience],
    certificates: (options.signer ?? createTokenSigner()).certificates,
    now: () => nowMillis,
    logger: createLogger({ service: 'ingest', level: 'silent' }),
    retryAfterSeconds: 5,
  });
  const { app, logs } = createTestApp({ publisher, sourceAccess, ...(options.statusReader ? { statusReader: options.statusReader } : {}) });
  const post = (body: unknown, headers: Record<string, string>) =>
    Promise.resolve(app.request('/v1/events', { method: 'POST', headers: { 'content-type': 'application/cloudevents+json', ...headers }, body: JSON.stringify(body) }));
  return { app, logs, publisher, post, advance: (millis: number) => (nowMillis += millis) };
}

const batchType = { 'content-type': 'application/cloudevents-batch+json' };

describe('authentication', () => {
  it('request without credentials is 401 and unpublished', async () => {
    const { post, publisher, logs } = accessApp();
    const response = await post(hiredEvent(), {});
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="hr-events-ingest"');
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.unauthenticated);
    expect(problem.detail).toContain('send the API key of your source in x-api-key');
    expect(publisher.messages).toHaveLength(0);
    expect(logs[0]).toMatchObject({ status: 401, authFailure: 'no-credentials', problemType: ProblemType.unauthenticated });
  });

  it('valid key publishes as its principal', async () => {
    const { post, publisher, logs } = accessApp();
    expect((await post(hiredEvent(), { 'x-api-key': hrKey.key })).status).toBe(202);
    expect(publisher.messages[0]?.attributes[principalAttribute]).toBe('hr-system');
    expect(logs[0]).toMatchObject({ status: 202, principal: 'hr-system', credential: 'api-key', keyId: 'k1' });
    expect(JSON.stringify(logs)).not.toContain(hrKey.key.split('.')[3]);
  });

  it('unknown key is 401 without the key in the log', async () => {
    const { post, logs } = accessApp();
    const revoked = createApiKey('hr-system', 'k0');
    const response = await post(hiredEvent(), { 'x-api-key': revoked.key });
    expect(response.status).toBe(401);
    expect((await jsonOf(response)).detail).toBe('The API key in x-api-key is not valid: it is unknown or was revoked. Ask the operator of the ingest for a new key.');
    expect(logs[0]).toMatchObject({ authFailure: 'unknown-key', claimedPrincipal: 'hr-system', keyId: 'k0' });
    expect(JSON.stringify(logs)).not.toContain(revoked.key);
  });

  it('malformed key is 401', async () => {
    const response = await accessApp().post(hiredEvent(), { 'x-api-key': 'let-me-in' });
    expect(response.status).toBe(401);
    expect((await jsonOf(response)).detail).toContain('has the form hrk.<source>.<key id>.<secret>');
  });

  it('two credentials are 401', async () => {
    const signer = createTokenSigner();
    const response = await accessApp({ signer }).post(hiredEvent(), { 'x-api-key': hrKey.key, authorization: `Bearer ${signer.sign(idTokenClaims(hrServiceAccount))}` });
    expect(response.status).toBe(401);
    expect((await jsonOf(response)).detail).toBe('The request carries both x-api-key and Authorization; send only one credential.');
  });

  it('id token of a registered account publishes', async () => {
    const signer = createTokenSigner();
    const { post, publisher, logs } = accessApp({ signer });
    const response = await post(hiredEvent(), { authorization: `Bearer ${signer.sign(idTokenClaims(hrServiceAccount))}` });
    expect(response.status).toBe(202);
    expect(publisher.messages[0]?.attributes[principalAttribute]).toBe('hr-system');
    expect(logs[0]).toMatchObject({ principal: 'hr-system', credential: 'id-token', serviceAccount: hrServiceAccount });
  });

  it('invalid id token is 401 with invalid_token', async () => {
    const signer = createTokenSigner();
    const response = await accessApp({ signer }).post(hiredEvent(), { authorization: `Bearer ${signer.sign(idTokenClaims(hrServiceAccount, { aud: 'https://elsewhere.test' }))}` });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="hr-events-ingest", error="invalid_token"');
    expect((await jsonOf(response)).detail).toContain("the token's audience is not this ingest");
  });

  it('id token of an unregistered account is 403', async () => {
    const signer = createTokenSigner();
    const { post, publisher } = accessApp({ signer });
    const response = await post(hiredEvent(), { authorization: `Bearer ${signer.sign(idTokenClaims('intruder@other.iam.gserviceaccount.com'))}` });
    expect(response.status).toBe(403);
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.forbidden);
    expect(problem.detail).toContain('intruder@other.iam.gserviceaccount.com is not registered as a source');
    expect(publisher.messages).toHaveLength(0);
  });

  it('other authorization scheme is 401', async () => {
    const response = await accessApp().post(hiredEvent(), { authorization: 'Basic aHI6c2VjcmV0' });
    expect(response.status).toBe(401);
    expect((await jsonOf(response)).detail).toContain('must be "Bearer <ID token>"');
  });

  it('bearer token is refused without fetching when no source uses tokens', async () => {
    const signer = createTokenSigner();
    const sourceAccess = new SourceAccess({
      sources: { principals: [principal('vendor-office', { types: ['hr.contractor.engaged'] })] },
      audiences: [],
      certificates: signer.certificates,
      logger: createLogger({ service: 'ingest', level: 'silent' }),
      retryAfterSeconds: 5,
    });
    const { app } = createTestApp({ sourceAccess });
    const response = await app.request('/v1/events', { method: 'POST', headers: { authorization: `Bearer ${signer.sign(idTokenClaims(hrServiceAccount))}` }, body: '{}' });
    expect(response.status).toBe(401);
    expect((await jsonOf(response)).detail).toContain('has no source that authenticates with ID tokens');
    expect(signer.fetchCount()).toBe(0);
  });

  it('unreachable certificates are 503 with Retry-After', async () => {
    const signer = createTokenSigner();
    const failing = { ...signer, certificates: async () => Promise.reject(new Error('connect ECONNREFUSED')) };
    const response = await accessApp({ signer: failing }).post(hiredEvent(), { authorization: `Bearer ${signer.sign(idTokenClaims(hrServiceAccount))}` });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect((await jsonOf(response)).title).toBe('Authentication unavailable');
  });

  it('service accounts need an audience', () => {
    const create = () =>
      new SourceAccess({ sources: { principals }, audiences: [], logger: createLogger({ service: 'ingest', level: 'silent' }), retryAfterSeconds: 5 });
    expect(create).toThrow('The sources hr-system list service accounts, which authenticate with ID tokens, but INGEST_AUDIENCE is not set');
  });
});

describe('policy', () => {
  it('vendor claiming the hr system is 403', async () => {
    const { post, publisher } = accessApp();
    const response = await post(engagedEvent({ source: 'hr-system' }), { 'x-api-key': vendorKey.key });
    expect(response.status).toBe(403);
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.forbidden);
    expect(problem.detail).toBe(
      '"vendor-office" may not send this event: source "hr-system" is not allowed for "vendor-office", which may send the sources vendor-office; ' +
        'send only the sources and types this principal may send, or ask the operator to change its policy in the sources file.',
    );
    expect(problem.errors).toEqual([{ pointer: '/source', detail: 'source "hr-system" is not allowed for "vendor-office", which may send the sources vendor-office' }]);
    expect(publisher.messages).toHaveLength(0);
  });

  it('vendor sending a hire is 403', async () => {
    const { post, publisher } = accessApp();
    const response = await post(hiredEvent({ source: 'vendor-office' }), { 'x-api-key': vendorKey.key });
    expect(response.status).toBe(403);
    expect((await jsonOf(response)).errors).toEqual([
      { pointer: '/type', detail: 'type "hr.employee.hired" is not allowed for "vendor-office", which may send the types hr.contractor.engaged' },
    ]);
    expect(publisher.messages).toHaveLength(0);
  });

  it('binary mode points at the ce headers', async () => {
    const { app, publisher } = accessApp();
    const response = await app.request('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': vendorKey.key, 'ce-specversion': '1.0', 'ce-id': 'b-1', 'ce-source': 'hr-system', 'ce-type': 'hr.employee.hired' },
      body: JSON.stringify(hiredData()),
    });
    expect(response.status).toBe(403);
    expect((await jsonOf(response)).errors.map((error: { pointer: string }) => error.pointer)).toEqual(['/headers/ce-source', '/headers/ce-type']);
    expect(publisher.messages).toHaveLength(0);
  });

  it('one disallowed event rejects the batch', async () => {
    const { post, publisher } = accessApp();
    const batch = [engagedEvent({ id: 'b-0' }), engagedEvent({ id: 'b-1' }), hiredEvent({ id: 'b-2', source: 'vendor-office' })];
    const response = await post(batch, { 'x-api-key': vendorKey.key, ...batchType });
    expect(response.status).toBe(403);
    const problem = await jsonOf(response);
    expect(problem.detail).toContain('1 of 3 events in the batch are not allowed for "vendor-office", so none was published (first problem: /2/type type "hr.employee.hired"');
    expect(problem.errors).toEqual([{ pointer: '/2/type', detail: expect.stringContaining('type "hr.employee.hired" is not allowed') }]);
    expect(publisher.messages).toHaveLength(0);
  });

  it('invalid event is 400 before the policy', async () => {
    const response = await accessApp().post(hiredEvent({ source: 'vendor-office', data: hiredData({ workEmail: 'x' }) }), { 'x-api-key': vendorKey.key });
    expect(response.status).toBe(400);
  });
});

describe('rate limit', () => {
  it('request over the limit is 429 with Retry-After', async () => {
    const { post, publisher, logs } = accessApp();
    const key = { 'x-api-key': limitedKey.key };
    for (const id of ['r-1', 'r-2', 'r-3']) expect((await post(hiredEvent({ id }), key)).status).toBe(202);

    const response = await post(hiredEvent({ id: 'r-4' }), key);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('1');
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.rateLimited);
    expect(problem.detail).toBe('"limited" is over its rate limit of 2 events per second (up to 3 at once), so nothing was published; retry after 1 second.');
    expect(publisher.messages.map((message) => message.attributes['ce-id'])).toEqual(['r-1', 'r-2', 'r-3']);
    expect(logs.at(-1)).toMatchObject({ status: 429, principal: 'limited', retryAfterSeconds: 1 });
  });

  it('bucket refills with time', async () => {
    const { post, advance } = accessApp();
    const key = { 'x-api-key': limitedKey.key };
    for (const id of ['r-1', 'r-2', 'r-3']) await post(hiredEvent({ id }), key);
    advance(500);
    expect((await post(hiredEvent({ id: 'r-4' }), key)).status).toBe(202);
    expect((await post(hiredEvent({ id: 'r-5' }), key)).status).toBe(429);
  });

  it('batch of n costs n', async () => {
    const { post, publisher } = accessApp();
    const key = { 'x-api-key': limitedKey.key, ...batchType };
    expect((await post([hiredEvent({ id: 'b-1' }), hiredEvent({ id: 'b-2' })], key)).status).toBe(202);
    const response = await post([hiredEvent({ id: 'b-3' }), hiredEvent({ id: 'b-4' })], key);
    expect(response.status).toBe(429);
    expect(publisher.messages).toHaveLength(2);
  });

  it('batch above the burst is 413', async () => {
    const { post, publisher } = accessApp();
    const batch = ['b-1', 'b-2', 'b-3', 'b-4'].map((id) => hiredEvent({ id }));
    const response = await post(batch, { 'x-api-key': limitedKey.key, ...batchType });
    expect(response.status).toBe(413);
    const problem = await jsonOf(response);
    expect(problem.type).toBe(ProblemType.batchTooLarge);
    expect(problem.detail).toBe('The batch has 4 events, more than the 3 that "limited" may send at once (its rate-limit burst); split it into batches of at most 3 events.');
    expect(publisher.messages).toHaveLength(0);
  });

  it('invalid requests count too', async () => {
    const { post } = accessApp();
    const key = { 'x-api-key': limitedKey.key };
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await post('{', key)).status).toBe(400);
    expect((await post(hiredEvent(), key)).status).toBe(429);
  });

  it('principals have separate buckets', async () => {
    const { post } = accessApp();
    for (const id of ['r-1', 'r-2', 'r-3', 'r-4']) await post(hiredEvent({ id }), { 'x-api-key': limitedKey.key });
    expect((await post(hiredEvent({ id: 'h-1' }), { 'x-api-key': hrKey.key })).status).toBe(202);
  });
});

describe('event status access', () => {
  const at = '2027-01-01T09:00:02.000Z';
  const receipts: EventReceipt[] = [
    { id: 'evt-0001', source: 'hr-system', type: 'hr.employee.hired', consumers: { onboarding: { status: 'processed', at } } },
    { id: 'evt-0002', source: 'vendor-office', type: 'hr.contractor.engaged', consumers: { directory: { status: 'processed', at } } },
    { id: 'evt-0003', source: 'hr-system', type: 'hr.employee.hired', consumers: { directory: { status: 'processed', at } } },
    { id: 'evt-0003', source: 'vendor-office', type: 'hr.contractor.engaged', consumers: { directory: { status: 'processed', at } } },
  ];

  it('status without credentials is 401', async () => {
    const { app } = accessApp({ statusReader: new InMemoryStatusReader(receipts) });
    const response = await app.request('/v1/events/evt-0001');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="hr-events-ingest"');
  });

  it('own event is readable', async () => {
    const { app } = accessApp({ statusReader: new InMemoryStatusReader(receipts) });
    const response = await app.request('/v1/events/evt-0001', { headers: { 'x-api-key': hrKey.key } });
    expect(response.status).toBe(200);
    expect((await jsonOf(response)).source).toBe('hr-system');
  });

  it('event of another source is not found', async () => {
    const { app } = accessApp({ statusReader: new InMemoryStatusReader(receipts) });
    const response = await app.request('/v1/events/evt-0002', { headers: { 'x-api-key': hrKey.key } });
    expect(response.status).toBe(404);
  });

  it('shared id shows only the own source', async () => {
    const { app } = accessApp({ statusReader: new InMemoryStatusReader(receipts) });
    const response = await app.request('/v1/events/evt-0003', { headers: { 'x-api-key': vendorKey.key } });
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({ id: 'evt-0003', source: 'vendor-office', consumers: { directory: { status: 'processed', at } } });
  });

  it('asking for another source is 403', async () => {
    const { app } = accessApp({ statusReader: new InMemoryStatusReader(receipts) });
    const response = await app.request('/v1/events/evt-0001?source=hr-system', { headers: { 'x-api-key': vendorKey.key } });
    expect(response.status).toBe(403);
    const problem = await jsonOf(response);
    expect(problem.detail).toBe('"vendor-office" may read only the events of the sources it may send (vendor-office), not of source "hr-system".');
    expect(problem.errors).toEqual([{ pointer: '/query/source', detail: '"hr-system" is not a source of "vendor-office"' }]);
  });
});
