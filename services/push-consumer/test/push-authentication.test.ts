import { generateKeyPairSync } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { afterAll, describe, expect, it } from 'vitest';
import { ProblemType, collections, eventKey } from '@hr-events/contract';
import { createApp } from '../src/app.ts';
import { FirestoreOnboardingStore } from '../src/onboarding-store.ts';
import { pushAuthentication } from '../src/push-authentication.ts';
import { hiredEvent } from '../../../test/fixtures/events.ts';
import { uniqueProjectId } from '../../../test/support/project.ts';
import { createTokenIssuer, pushTokenClaims, signJwt, unsignedJwt } from './support/oidc-tokens.ts';
import { capturingLogger, catalog, encodeEvent, pushInit, validator, wrappedPushBody } from './support/push.ts';

// Every token a push request may carry, through the whole app with the Firestore store on the
// emulator, so that "nothing processed" is checked where the effect would be. Google's certificates
// are replaced by the public key of a pair made here: the emulator sends no tokens at all.

const projectId = uniqueProjectId('push-auth');
const firestore = new Firestore({ projectId });
const audience = 'https://onboarding-abc123-ew.a.run.app/pubsub/push';
const serviceAccount = 'push-invoker@hr-events-prod.iam.gserviceaccount.com';
const issuer = createTokenIssuer();
const { logger, lines } = capturingLogger();
const app = createApp({
  authentication: pushAuthentication({ audience, serviceAccountEmail: serviceAccount, logger, certificates: async () => issuer.certificates }),
  store: new FirestoreOnboardingStore(firestore),
  catalog,
  validator,
  logger,
  projectId,
});

afterAll(async () => {
  await firestore.terminate();
});

const now = () => Math.floor(Date.now() / 1000);
const valid = () => pushTokenClaims(audience, serviceAccount);
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
// google-auth-library allows 300 s of clock skew on iat and exp, so the time cases go beyond it.
const skewSeconds = 300;

const rejections: [name: string, authorization: () => string | undefined, status: number, reason: string][] = [
  ['no token', () => undefined, 401, 'missing-token'],
  ['malformed token', () => 'Bearer not-a-jwt', 401, 'malformed-token'],
  ['bad signature', () => `Bearer ${signJwt({ alg: 'RS256', typ: 'JWT', kid: issuer.keyId }, valid(), otherKey)}`, 401, 'bad-signature'],
  ['alg none', () => `Bearer ${unsignedJwt(valid(), issuer.keyId)}`, 401, 'unsupported-algorithm'],
  ['wrong issuer', () => `Bearer ${issuer.sign({ ...valid(), iss: 'https://issuer.example.com' })}`, 401, 'wrong-issuer'],
  ['wrong audience', () => `Bearer ${issuer.sign({ ...valid(), aud: 'https://other-service.example.com/pubsub/push' })}`, 401, 'wrong-audience'],
  ['expired token', () => `Bearer ${issuer.sign({ ...valid(), iat: now() - 7200, exp: now() - 3600 - skewSeconds })}`, 401, 'expired'],
  ['token not yet valid', () => `Bearer ${issuer.sign({ ...valid(), iat: now() + skewSeconds + 600, exp: now() + 3600 })}`, 401, 'not-yet-valid'],
  ['wrong email', () => `Bearer ${issuer.sign({ ...valid(), email: 'someone-else@hr-events-prod.iam.gserviceaccount.com' })}`, 403, 'wrong-email'],
  ['unverified email', () => `Bearer ${issuer.sign({ ...valid(), email_verified: false })}`, 403, 'email-not-verified'],
];

async function storedDocuments(source: string, id: string) {
  const key = eventKey(source, id);
  const [record, receipt] = await Promise.all([
    firestore.collection(collections.onboarding).doc(key).get(),
    firestore.collection(collections.receipts).doc(key).get(),
  ]);
  return { record: record.exists, receipt: receipt.exists };
}

describe('push authentication', () => {
  it('valid token is accepted and processed', async () => {
    const { event, message } = encodeEvent(hiredEvent());

    const response = await app.request('/pubsub/push', pushInit(wrappedPushBody(message), { authorization: `Bearer ${issuer.sign(valid())}` }));

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ outcome: 'processed', eventId: event.id });
    expect(await storedDocuments(event.source, event.id)).toEqual({ record: true, receipt: true });
  });

  it.each(rejections)('%s is rejected and nothing is processed', async (_name, authorization, status, reason) => {
    const { event, message } = encodeEvent(hiredEvent());
    const header = authorization();
    lines.length = 0;

    const response = await app.request('/pubsub/push', pushInit(wrappedPushBody(message), header === undefined ? {} : { authorization: header }));

    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({
      type: status === 403 ? ProblemType.forbidden : ProblemType.unauthenticated,
      status,
      detail: expect.stringContaining(`(${reason})`),
    });
    expect(await storedDocuments(event.source, event.id)).toEqual({ record: false, receipt: false });
    expect(lines).toEqual([expect.objectContaining({ severity: 'WARNING', outcome: 'rejected', reason, status })]);
  });
});
