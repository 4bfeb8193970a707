import { ProblemType, type FieldProblem } from '@hr-events/contract';
import { addLogFields, type IngestContext } from '../context.ts';
import { createProblem, ProblemError, secondsText } from '../problem.ts';
import type { Principal } from './source-access.ts';

// The problems of the access checks: 401 for missing or invalid credentials, 403 for what the
// policy does not allow, 429 for a principal over its rate limit.

/** The challenge of every 401. RFC 6750 adds `error="invalid_token"` when a bearer token was rejected. */
const realm = 'Bearer realm="hr-events-ingest"';

export function unauthenticated(c: IngestContext, reason: string, detail: string, isTokenRejected = false): ProblemError {
  addLogFields(c, { authFailure: reason });
  const challenge = isTokenRejected ? `${realm}, error="invalid_token"` : realm;
  return new ProblemError(createProblem(ProblemType.unauthenticated, 401, detail), { 'www-authenticate': challenge });
}

export function forbiddenEvents(principal: Principal, errors: FieldProblem[], rejectedCount: number, total: number, isBatch: boolean): ProblemError {
  const first = errors[0] as FieldProblem;
  const fix = 'send only the sources and types this principal may send, or ask the operator to change its policy in the sources file';
  const detail = isBatch
    ? `${rejectedCount} of ${total} events in the batch are not allowed for "${principal.name}", so none was published ` +
      `(first problem: ${first.pointer} ${first.detail}); ${fix}.`
    : `"${principal.name}" may not send this event: ${first.detail}; ${fix}.`;
  return new ProblemError(createProblem(ProblemType.forbidden, 403, detail, errors));
}

export function unregisteredServiceAccount(email: string): ProblemError {
  const detail = `The ID token is valid, but ${email} is not registered as a source; ask the operator to add it to the serviceAccounts of a source.`;
  return new ProblemError(createProblem(ProblemType.forbidden, 403, detail, [{ pointer: '/headers/authorization', detail: 'names a service account that is not registered' }]));
}

export function forbiddenRead(principal: Principal, source: string): ProblemError {
  const detail = `"${principal.name}" may read only the events of the sources it may send (${[...principal.sources].join(', ')}), not of source "${source}".`;
  return new ProblemError(createProblem(ProblemType.forbidden, 403, detail, [{ pointer: '/query/source', detail: `"${source}" is not a source of "${principal.name}"` }]));
}

export function rateLimited(c: IngestContext, principal: Principal, retryAfterSeconds: number): ProblemError {
  addLogFields(c, { retryAfterSeconds });
  const { eventsPerSecond, burst } = principal.rateLimit;
  const detail =
    `"${principal.name}" is over its rate limit of ${eventsPerSecond} events per second (up to ${burst} at once), so nothing was published; ` +
    `retry after ${secondsText(retryAfterSeconds)}.`;
  return new ProblemError(createProblem(ProblemType.rateLimited, 429, detail), { 'retry-after': String(retryAfterSeconds) });
}

export function tooManyEventsAtOnce(principal: Principal, count: number): ProblemError {
  const { burst } = principal.rateLimit;
  const detail = `The batch has ${count} events, more than the ${burst} that "${principal.name}" may send at once (its rate-limit burst); split it into batches of at most ${burst} events.`;
  return new ProblemError(createProblem(ProblemType.batchTooLarge, 413, detail, [{ pointer: '', detail: `must contain at most ${burst} events` }]));
}

/** Google's certificates could not be fetched, so no ID token can be checked; API keys still work. */
export function verificationUnavailable(c: IngestContext, retryAfterSeconds: number): ProblemError {
  addLogFields(c, { authFailure: 'certificates-unavailable' });
  const problem = {
    ...createProblem(ProblemType.internal, 503, `ID tokens cannot be verified right now; retry after ${secondsText(retryAfterSeconds)}.`),
    title: 'Authentication unavailable',
  };
  return new ProblemError(problem, { 'retry-after': String(retryAfterSeconds) });
}
