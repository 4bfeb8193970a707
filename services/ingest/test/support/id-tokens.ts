import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { CertificateSource } from '../../src/auth/id-tokens.ts';

// Google-style ID tokens signed with a key pair the tests make, because Google's own signing keys
// are out of reach. The verifier gets the public key through its injectable certificate source,
// exactly where Google's certificates would come from.

export const testAudience = 'https://ingest.test';

export interface TokenSigner {
  /** Key id that the certificate source serves the public key under. */
  keyId: string;
  certificates: CertificateSource;
  /** How often `certificates` was called, to show when a token is rejected before any fetch. */
  fetchCount(): number;
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): string;
}

export function createTokenSigner(keyId = 'test-key'): TokenSigner {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let fetches = 0;
  return {
    keyId,
    certificates: async () => {
      fetches += 1;
      return { [keyId]: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
    },
    fetchCount: () => fetches,
    sign: (claims, header) => signJwt(privateKey, { alg: 'RS256', typ: 'JWT', kid: keyId, ...header }, claims),
  };
}

/** Returns the claims of a valid token for `email`, issued now for one hour. */
export function idTokenClaims(email: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'https://accounts.google.com', aud: testAudience, sub: '1234567890', email, email_verified: true, iat: now, exp: now + 3600, ...overrides };
}

export function signJwt(privateKey: KeyObject, header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${encode(header)}.${encode(claims)}`;
  return `${signed}.${sign('RSA-SHA256', Buffer.from(signed), privateKey).toString('base64url')}`;
}
