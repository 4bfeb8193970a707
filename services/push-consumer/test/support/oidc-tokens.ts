import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';

// Signs OIDC tokens the way Google signs Pub/Sub push tokens (RS256, `kid` in the header), with a
// key pair made here. Its public key in PEM form is all google-auth-library needs as a certificate.

export interface TokenIssuer {
  keyId: string;
  /** Certificates by key id, in the form getFederatedSignonCertsAsync() returns. */
  certificates: Record<string, string>;
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): string;
}

export function createTokenIssuer(keyId = 'test-key'): TokenIssuer {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    keyId,
    certificates: { [keyId]: publicKey.export({ type: 'spki', format: 'pem' }) as string },
    sign: (claims, header = {}) => signJwt({ alg: 'RS256', typ: 'JWT', kid: keyId, ...header }, claims, privateKey),
  };
}

export function signJwt(header: Record<string, unknown>, claims: Record<string, unknown>, privateKey: KeyObject): string {
  const signingInput = `${encodeSegment(header)}.${encodeSegment(claims)}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(privateKey).toString('base64url');
  return `${signingInput}.${signature}`;
}

/** Builds a token with `alg: none` and no signature, as an attacker would send it. */
export function unsignedJwt(claims: Record<string, unknown>, keyId: string): string {
  return `${encodeSegment({ alg: 'none', typ: 'JWT', kid: keyId })}.${encodeSegment(claims)}.`;
}

/** Returns the claims of a valid push token for `audience` and `email`, issued now and valid for an hour. */
export function pushTokenClaims(audience: string, email: string, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  return {
    iss: 'https://accounts.google.com',
    aud: audience,
    azp: '100000000000000000001',
    sub: '100000000000000000001',
    email,
    email_verified: true,
    iat: nowSeconds,
    exp: nowSeconds + 3600,
  };
}

function encodeSegment(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
