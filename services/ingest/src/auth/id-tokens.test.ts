import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenSigner, idTokenClaims, signJwt, testAudience } from '../../test/support/id-tokens.ts';
import { IdTokenVerifier } from './id-tokens.ts';

const email = 'sender@hr-project.iam.gserviceaccount.com';

function verifierWith(signer = createTokenSigner()) {
  return { signer, verifier: new IdTokenVerifier({ audiences: [testAudience, 'https://events.example.com'], certificates: signer.certificates }) };
}

describe('IdTokenVerifier', () => {
  it('valid token yields its email', async () => {
    const { signer, verifier } = verifierWith();
    expect(await verifier.verify(signer.sign(idTokenClaims('Sender@HR-Project.iam.gserviceaccount.com')))).toEqual({ email });
  });

  it('accepts every configured audience', async () => {
    const { signer, verifier } = verifierWith();
    expect(await verifier.verify(signer.sign(idTokenClaims(email, { aud: 'https://events.example.com' })))).toEqual({ email });
  });

  it.each([
    ['wrong audience', { aud: 'https://other.example.com' }, 'wrong-audience'],
    ['expired token', { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }, 'expired'],
    ['token from the future', { iat: Math.floor(Date.now() / 1000) + 3600, exp: Math.floor(Date.now() / 1000) + 3700 }, 'not-yet-valid'],
    ['nbf in the future', { nbf: Math.floor(Date.now() / 1000) + 3600 }, 'not-yet-valid'],
    ['other issuer', { iss: 'https://issuer.example.com' }, 'wrong-issuer'],
    ['unverified email', { email_verified: false }, 'email-not-verified'],
    ['no email', { email: undefined }, 'no-email'],
    ['lifetime over an hour', { exp: Math.floor(Date.now() / 1000) + 24 * 3600 }, 'lifetime-too-long'],
    ['no expiry', { exp: undefined }, 'malformed-token'],
  ])('%s is rejected', async (_name, overrides, failure) => {
    const { signer, verifier } = verifierWith();
    const result = await verifier.verify(signer.sign(idTokenClaims(email, overrides)));
    expect(result).toMatchObject({ failure, status: 401 });
  });

  it('key that google does not list is rejected', async () => {
    const { verifier } = verifierWith();
    const stranger = createTokenSigner('other-key');
    expect(await verifier.verify(stranger.sign(idTokenClaims(email)))).toMatchObject({ failure: 'unknown-signing-key', status: 401 });
  });

  it('forged signature under a known key id is rejected', async () => {
    const { signer, verifier } = verifierWith();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = signJwt(privateKey, { alg: 'RS256', kid: signer.keyId }, idTokenClaims(email));
    expect(await verifier.verify(forged)).toMatchObject({ failure: 'bad-signature', status: 401 });
  });

  it('alg none is rejected before certificates are fetched', async () => {
    const { signer, verifier } = verifierWith();
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none', kid: signer.keyId })}.${encode(idTokenClaims(email))}.x`;
    expect(await verifier.verify(unsigned)).toMatchObject({ failure: 'unsupported-algorithm', status: 401 });
    expect(signer.fetchCount()).toBe(0);
  });

  it('text that is not a jwt is rejected', async () => {
    const { signer, verifier } = verifierWith();
    expect(await verifier.verify('not-a-token')).toMatchObject({ failure: 'malformed-token' });
    expect(await verifier.verify('a.b.c')).toMatchObject({ failure: 'malformed-token' });
    expect(signer.fetchCount()).toBe(0);
  });

  it('certificate fetch failure is 503', async () => {
    const signer = createTokenSigner();
    const failing = new IdTokenVerifier({ audiences: [testAudience], certificates: async () => Promise.reject(new Error('getaddrinfo ENOTFOUND')) });
    const result = await failing.verify(signer.sign(idTokenClaims(email)));
    expect(result).toMatchObject({ failure: 'certificates-unavailable', status: 503 });
    expect(((result as { error?: unknown }).error as Error).message).toBe('getaddrinfo ENOTFOUND');
  });
});
