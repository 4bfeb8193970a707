import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Certificates, OAuth2Client, TokenPayload } from 'google-auth-library';

// Verifies Google-signed ID tokens (`Authorization: Bearer <JWT>`) that a source's service account
// obtains for the ingest's URL as audience, for example with `gcloud auth print-identity-token` or
// google-auth-library's `getIdTokenClient`. A token passes when its RS256 signature matches one of
// Google's certificates, its issuer is Google, its audience is one of the ingest's, it is within its
// lifetime and it asserts a verified email. Which principal that email is decides the sources file.

/** Returns the certificates that may have signed a token, keyed by key id (`kid`). */
export type CertificateSource = () => Promise<Certificates>;

export type IdTokenResult =
  | { email: string; failure?: undefined }
  /** `status` 503 means the token could not be checked right now, not that it is wrong. */
  | { email?: undefined; failure: string; detail: string; status: 401 | 503; error?: unknown };

export interface IdTokenVerifierOptions {
  /** Accepted `aud` values: the ingest's URLs. */
  audiences: string[];
  /** Google's certificates by default; tests pass the public key of a pair they made. */
  certificates?: CertificateSource;
  client?: OAuth2Client;
}

export const googleIssuers = ['accounts.google.com', 'https://accounts.google.com'];

// Google's ID tokens live one hour. google-auth-library checks `exp` against this bound without its
// 5-minute clock skew, so the skew is added here.
const maxTokenLifetimeSeconds = 3600 + 300;
// The skew google-auth-library allows on `iat` and `exp`, applied here to `nbf`, which it ignores.
const clockSkewSeconds = 300;

/** Uses the library's certificate cache, which follows the Cache-Control max-age that Google sends. */
export function googleCertificates(client: OAuth2Client): CertificateSource {
  return async () => (await client.getFederatedSignonCertsAsync()).certs;
}

export class IdTokenVerifier {
  private readonly audiences: string[];

  private readonly client: Promise<OAuth2Client>;

  private readonly certificates: CertificateSource;

  constructor(options: IdTokenVerifierOptions) {
    this.audiences = options.audiences;
    this.client = options.client === undefined ? loadClient() : Promise.resolve(options.client);
    // A failed load is reported by the first verify(), not as an unhandled rejection.
    this.client.catch(() => undefined);
    this.certificates = options.certificates ?? (async () => googleCertificates(await this.client)());
  }

  async verify(token: string): Promise<IdTokenResult> {
    // The library picks the verification from the key, not from `alg`. Checking `alg` first rejects
    // `alg: none` and algorithm confusion before any certificate is fetched.
    const header = readJwtHeader(token);
    if (header === undefined) return rejected('malformed-token', 'the bearer token is not a JSON Web Token');
    if (header.alg !== 'RS256') return rejected('unsupported-algorithm', 'the token must be signed with RS256, as Google signs ID tokens');

    let keys: Certificates;
    try {
      keys = await this.certificates();
    } catch (error) {
      return { failure: 'certificates-unavailable', detail: "Google's token certificates cannot be fetched right now", status: 503, error };
    }

    let client: OAuth2Client;
    try {
      client = await this.client;
    } catch (error) {
      return { failure: 'verifier-unavailable', detail: 'the token verifier could not be loaded', status: 503, error };
    }

    let payload: TokenPayload | undefined;
    try {
      const ticket = await client.verifySignedJwtWithCertsAsync(token, keys, this.audiences, googleIssuers, maxTokenLifetimeSeconds);
      payload = ticket.getPayload();
    } catch (error) {
      return classifyVerificationError(error);
    }
    return checkClaims(payload);
  }
}

/**
 * Loads google-auth-library and creates its client. Loading takes about 40 ms (Node 24, 2-core
 * machine), so it starts on the next turn of the event loop, after the server has begun to listen,
 * and the first token's verify() waits for it.
 */
async function loadClient(): Promise<OAuth2Client> {
  await nextTurn();
  const { OAuth2Client } = await import('google-auth-library');
  return new OAuth2Client();
}

function checkClaims(payload: TokenPayload | undefined): IdTokenResult {
  if (payload === undefined) return rejected('malformed-token', 'the token has no payload');

  // TokenPayload does not declare nbf. Google's tokens carry none, but a token that has one is held to it.
  const notBefore = (payload as TokenPayload & { nbf?: unknown }).nbf;
  if (typeof notBefore === 'number' && Date.now() / 1000 < notBefore - clockSkewSeconds) {
    return rejected('not-yet-valid', 'the token is not valid yet (nbf is in the future)');
  }
  if (typeof payload.email !== 'string' || payload.email === '') {
    return rejected('no-email', 'the token carries no email; request it for a service account, with the email included');
  }
  if (payload.email_verified !== true) return rejected('email-not-verified', 'the token does not assert a verified email');
  return { email: payload.email.toLowerCase() };
}

// google-auth-library reports every failed check as a plain Error whose message starts with the
// name of the check. The messages contain the token, so only the mapped reason is kept.
const verificationFailures: [RegExp, string, string][] = [
  [/^No pem found/, 'unknown-signing-key', "the token was signed with a key that is not among Google's current certificates"],
  [/^Invalid token signature/, 'bad-signature', 'the token signature does not match'],
  [/^Token used too late/, 'expired', 'the token has expired; request a new one'],
  [/^Token used too early/, 'not-yet-valid', 'the token is not valid yet (iat is in the future)'],
  [/^Invalid issuer/, 'wrong-issuer', 'the token was not issued by accounts.google.com'],
  [/^Wrong recipient/, 'wrong-audience', "the token's audience is not this ingest; request the token with the ingest URL as audience"],
  [/^Expiration time too far in future/, 'lifetime-too-long', `the token claims a lifetime above ${maxTokenLifetimeSeconds} seconds`],
];

function classifyVerificationError(error: unknown): IdTokenResult {
  const message = error instanceof Error ? error.message : '';
  for (const [pattern, failure, detail] of verificationFailures) {
    if (pattern.test(message)) return rejected(failure, detail);
  }
  return rejected('malformed-token', 'the token cannot be decoded or lacks iat or exp');
}

function rejected(failure: string, detail: string): IdTokenResult {
  return { failure, detail, status: 401 };
}

function readJwtHeader(token: string): { alg?: unknown } | undefined {
  const segments = token.split('.');
  if (segments.length !== 3 || segments.some((segment) => !/^[A-Za-z0-9_-]+$/.test(segment))) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(segments[0] as string, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header) ? header : undefined;
  } catch {
    return undefined;
  }
}
