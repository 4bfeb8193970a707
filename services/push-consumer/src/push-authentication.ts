import type { MiddlewareHandler } from 'hono';
import { OAuth2Client, type Certificates, type TokenPayload } from 'google-auth-library';
import type { Logger } from 'pino';
import { ProblemType } from '@hr-events/contract';
import { problemResponse } from './problem-response.ts';

// Verifies the OIDC token that Pub/Sub attaches to each push request of a subscription configured
// with a push service account (`Authorization: Bearer <JWT>`, RS256, signed by Google). A request is
// let through only when the signature matches one of Google's certificates, the issuer is Google,
// the audience is the configured one, and the token names the configured service account with a
// verified email. Any other request gets an error response here and never reaches the push handler.

/** Returns the certificates that may have signed a token, keyed by key id (`kid`). */
export type CertificateSource = () => Promise<Certificates>;

export interface PushAuthenticationOptions {
  /** Expected `aud`: the audience set on the push subscription (by default its push endpoint URL). */
  audience: string | undefined;
  /** Expected `email`: the service account the push subscription signs tokens as. */
  serviceAccountEmail: string | undefined;
  logger: Logger;
  /** Google's certificates by default; tests pass the public key of a pair they made. */
  certificates?: CertificateSource;
  client?: OAuth2Client;
}

export const googleIssuers = ['accounts.google.com', 'https://accounts.google.com'];

// Google's ID tokens live one hour; the library adds no skew to this bound, so allow its 5-minute
// skew here too. Tokens claiming a longer life are rejected.
const maxTokenLifetimeSeconds = 3600 + 300;
// The allowance google-auth-library applies to `iat` and `exp`, used for `nbf`, which it ignores.
const clockSkewSeconds = 300;

type Rejection = { status: 401 | 403 | 503; reason: string; detail: string };

const problemKinds = {
  401: { type: ProblemType.unauthenticated, title: 'Unauthenticated' },
  403: { type: ProblemType.forbidden, title: 'Forbidden' },
  503: { type: ProblemType.internal, title: 'Service unavailable' },
} as const;

/** Uses the library's certificate cache, which follows the Cache-Control max-age Google sends. */
export function googleCertificates(client: OAuth2Client): CertificateSource {
  return async () => (await client.getFederatedSignonCertsAsync()).certs;
}

export function pushAuthentication(options: PushAuthenticationOptions): MiddlewareHandler {
  const { audience, serviceAccountEmail, logger } = options;
  const client = options.client ?? new OAuth2Client();
  const certificates = options.certificates ?? googleCertificates(client);

  const missing = [audience === undefined ? 'PUSH_AUDIENCE' : undefined, serviceAccountEmail === undefined ? 'PUSH_SERVICE_ACCOUNT' : undefined].filter(
    (name) => name !== undefined,
  );
  if (missing.length > 0) {
    logger.error(
      { missingSettings: missing },
      `Push authentication has no expected ${missing.join(' and ')}, so every push request is rejected with 401; set ${missing.join(' and ')} to the push subscription's audience and service account.`,
    );
  }

  const authenticate = async (authorization: string | undefined): Promise<Rejection | undefined> => {
    if (audience === undefined || serviceAccountEmail === undefined) {
      return { status: 401, reason: 'not-configured', detail: 'push authentication is not configured on this service, so no token can be accepted' };
    }
    const token = readBearerToken(authorization);
    if (token === undefined) {
      return { status: 401, reason: 'missing-token', detail: 'the request has no "Authorization: Bearer <token>" header; configure the push subscription with a service account' };
    }
    const header = readJwtHeader(token);
    if (header === undefined) return { status: 401, reason: 'malformed-token', detail: 'the bearer token is not a JSON Web Token' };
    // The library picks the verification from the key, not from `alg`; checking it here rejects
    // `alg: none` and algorithm confusion before any signature work.
    if (header.alg !== 'RS256') {
      return { status: 401, reason: 'unsupported-algorithm', detail: 'the token must be signed with RS256, as Google signs push tokens' };
    }

    let keys: Certificates;
    try {
      keys = await certificates();
    } catch (error) {
      logger.error({ err: error }, 'Fetching Google token certificates failed; responded with 503 so Pub/Sub retries the push request.');
      return { status: 503, reason: 'certificates-unavailable', detail: 'the token cannot be verified right now' };
    }

    let payload: TokenPayload | undefined;
    try {
      const ticket = await client.verifySignedJwtWithCertsAsync(token, keys, audience, googleIssuers, maxTokenLifetimeSeconds);
      payload = ticket.getPayload();
    } catch (error) {
      return classifyVerificationError(error);
    }
    return checkClaims(payload, serviceAccountEmail);
  };

  return async function pushAuthenticationMiddleware(c, next) {
    const rejection = await authenticate(c.req.header('authorization'));
    if (rejection === undefined) {
      await next();
      return;
    }

    const severity = rejection.status === 503 ? 'error' : 'warn';
    logger[severity]({ outcome: 'rejected', reason: rejection.reason, status: rejection.status }, `Push request rejected: ${rejection.reason}.`);
    return problemResponse(
      { ...problemKinds[rejection.status], status: rejection.status, detail: `Push request rejected (${rejection.reason}): ${rejection.detail}.` },
      rejection.status === 401 ? { 'www-authenticate': 'Bearer' } : {},
    );
  };
}

function checkClaims(payload: TokenPayload | undefined, serviceAccountEmail: string): Rejection | undefined {
  if (payload === undefined) return { status: 401, reason: 'malformed-token', detail: 'the token has no payload' };

  // TokenPayload does not declare nbf; Google's tokens carry none, but a token that has one is held to it.
  const notBefore = (payload as TokenPayload & { nbf?: unknown }).nbf;
  if (typeof notBefore === 'number' && Date.now() / 1000 < notBefore - clockSkewSeconds) {
    return { status: 401, reason: 'not-yet-valid', detail: 'the token is not valid yet (nbf is in the future)' };
  }
  if (payload.email?.toLowerCase() !== serviceAccountEmail.toLowerCase()) {
    return { status: 403, reason: 'wrong-email', detail: "the token was issued to another identity than the push subscription's service account" };
  }
  if (payload.email_verified !== true) {
    return { status: 403, reason: 'email-not-verified', detail: 'the token does not assert a verified email' };
  }
  return undefined;
}

// google-auth-library reports every failed check as a plain Error, and the start of its message
// identifies the check. The messages embed the token, so they are mapped to a reason and never
// logged or returned.
const verificationFailures: [RegExp, string, string][] = [
  [/^No pem found/, 'unknown-signing-key', 'the token was signed with a key that is not among Google\'s current certificates'],
  [/^Invalid token signature/, 'bad-signature', 'the token signature does not match'],
  [/^Token used too late/, 'expired', 'the token has expired'],
  [/^Token used too early/, 'not-yet-valid', 'the token is not valid yet (iat is in the future)'],
  [/^Invalid issuer/, 'wrong-issuer', 'the token was not issued by accounts.google.com'],
  [/^Wrong recipient/, 'wrong-audience', 'the token audience does not match the audience this endpoint expects'],
  [/^Expiration time too far in future/, 'lifetime-too-long', `the token claims a lifetime above ${maxTokenLifetimeSeconds} seconds`],
];

function classifyVerificationError(error: unknown): Rejection {
  const message = error instanceof Error ? error.message : '';
  for (const [pattern, reason, detail] of verificationFailures) {
    if (pattern.test(message)) return { status: 401, reason, detail };
  }
  return { status: 401, reason: 'malformed-token', detail: 'the token cannot be decoded or lacks iat or exp' };
}

function readBearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

function readJwtHeader(token: string): { alg?: unknown; kid?: unknown } | undefined {
  const segments = token.split('.');
  if (segments.length !== 3 || segments.some((segment) => !/^[A-Za-z0-9_-]*$/.test(segment))) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(segments[0] as string, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header) ? header : undefined;
  } catch {
    return undefined;
  }
}
