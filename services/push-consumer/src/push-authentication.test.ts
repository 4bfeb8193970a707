import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ProblemType } from '@hr-events/contract';
import { pushAuthentication, type CertificateSource } from './push-authentication.ts';
import { createTokenIssuer, pushTokenClaims } from '../test/support/oidc-tokens.ts';
import { capturingLogger } from '../test/support/push.ts';

// The middleware on its own, behind a route that counts the requests it lets through. The checks
// every push request meets (signature, issuer, audience, email, lifetime) are exercised end to end,
// with the Firestore store, in test/push-authentication.test.ts.

const audience = 'https://onboarding.example.run.app/pubsub/push';
const serviceAccount = 'push-invoker@hr-events-prod.iam.gserviceaccount.com';
const issuer = createTokenIssuer();

function protectedApp(options: { audience?: string | undefined; serviceAccountEmail?: string | undefined; certificates?: CertificateSource } = {}) {
  const { logger, lines } = capturingLogger();
  let reached = 0;
  const app = new Hono();
  app.use(
    '*',
    pushAuthentication({
      audience: 'audience' in options ? options.audience : audience,
      serviceAccountEmail: 'serviceAccountEmail' in options ? options.serviceAccountEmail : serviceAccount,
      logger,
      certificates: options.certificates ?? (async () => issuer.certificates),
    }),
  );
  app.post('/pubsub/push', (c) => {
    reached += 1;
    return c.text('reached');
  });
  return { app, lines, reached: () => reached };
}

function push(app: Hono, token: string | undefined, scheme = 'Bearer') {
  return app.request('/pubsub/push', { method: 'POST', headers: token === undefined ? {} : { authorization: `${scheme} ${token}` } });
}

describe('pushAuthentication', () => {
  it('lets a valid token through', async () => {
    const { app, reached } = protectedApp();
    const response = await push(app, issuer.sign(pushTokenClaims(audience, serviceAccount)));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('reached');
    expect(reached()).toBe(1);
  });

  it('compares the email without case', async () => {
    const { app } = protectedApp();
    const response = await push(app, issuer.sign(pushTokenClaims(audience, serviceAccount.toUpperCase())));
    expect(response.status).toBe(200);
  });

  it('rejects every request without an expected identity', async () => {
    const { app, lines, reached } = protectedApp({ serviceAccountEmail: undefined });
    const response = await push(app, issuer.sign(pushTokenClaims(audience, serviceAccount)));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ type: ProblemType.unauthenticated, detail: expect.stringContaining('not-configured') });
    expect(reached()).toBe(0);
    expect(lines[0]).toMatchObject({ severity: 'ERROR', missingSettings: ['PUSH_SERVICE_ACCOUNT'], message: expect.stringContaining('every push request is rejected') });
  });

  it('answers 503 when certificates cannot be fetched', async () => {
    const { app, lines, reached } = protectedApp({
      certificates: async () => {
        throw new Error('getaddrinfo EAI_AGAIN www.googleapis.com');
      },
    });
    const response = await push(app, issuer.sign(pushTokenClaims(audience, serviceAccount)));
    expect(response.status).toBe(503);
    expect(reached()).toBe(0);
    expect(lines.map((line) => line.severity)).toEqual(['ERROR', 'ERROR']);
  });

  it('rejects a token from an unknown key', async () => {
    const { app } = protectedApp();
    const response = await push(app, createTokenIssuer('rotated-key').sign(pushTokenClaims(audience, serviceAccount)));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ detail: expect.stringContaining('unknown-signing-key') });
  });

  it('rejects a token living over an hour', async () => {
    const { app } = protectedApp();
    const claims = pushTokenClaims(audience, serviceAccount);
    const response = await push(app, issuer.sign({ ...claims, exp: (claims.iat as number) + 3 * 24 * 3600 }));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ detail: expect.stringContaining('lifetime-too-long') });
  });

  it('rejects a token whose nbf is ahead', async () => {
    const { app } = protectedApp();
    const claims = pushTokenClaims(audience, serviceAccount);
    const response = await push(app, issuer.sign({ ...claims, nbf: (claims.iat as number) + 1800 }));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ detail: expect.stringContaining('not-yet-valid') });
  });

  it('rejects another authorization scheme', async () => {
    const { app } = protectedApp();
    const response = await push(app, 'dXNlcjpwYXNz', 'Basic');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await response.json()).toMatchObject({ detail: expect.stringContaining('missing-token') });
  });

  it('never logs the token', async () => {
    const { app, lines } = protectedApp();
    const token = issuer.sign(pushTokenClaims('https://elsewhere.example.com', serviceAccount));
    const response = await push(app, token);
    expect(response.status).toBe(401);
    expect(lines).toEqual([expect.objectContaining({ severity: 'WARNING', outcome: 'rejected', reason: 'wrong-audience' })]);
    expect(JSON.stringify(lines)).not.toContain(token.split('.')[2]);
    expect(JSON.stringify(await response.json())).not.toContain(token.split('.')[1]);
  });
});
