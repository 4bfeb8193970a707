import { createHash, timingSafeEqual } from 'node:crypto';
import { parseApiKey, type SourcePrincipal } from '@hr-events/contract';

// Checks `x-api-key` values against the SHA-256 hashes in the sources file, so the ingest receives
// a key in clear text only in the request. A key names its principal and key id, so exactly one
// stored hash is compared, in constant time.

export type ApiKeyResult =
  | { principal: string; keyId: string; failure?: undefined }
  | { principal?: string; keyId?: string; failure: 'malformed-key' | 'unknown-key' | 'wrong-secret' };

export class ApiKeyVerifier {
  /** SHA-256 digests by `<principal>.<key id>`. */
  private readonly digests = new Map<string, Buffer>();

  constructor(principals: readonly SourcePrincipal[]) {
    for (const principal of principals) {
      for (const key of principal.apiKeys) this.digests.set(`${principal.name}.${key.id}`, Buffer.from(key.sha256, 'hex'));
    }
  }

  verify(key: string): ApiKeyResult {
    const name = parseApiKey(key);
    if (name === undefined) return { failure: 'malformed-key' };

    // An unknown key id means the key was revoked or never issued. Key ids are not secret, so
    // rejecting this case sooner than a wrong secret reveals nothing an attacker can use.
    const expected = this.digests.get(`${name.principal}.${name.keyId}`);
    if (expected === undefined) return { ...name, failure: 'unknown-key' };

    const presented = createHash('sha256').update(key).digest();
    if (!timingSafeEqual(presented, expected)) return { ...name, failure: 'wrong-secret' };
    return name;
  }
}
