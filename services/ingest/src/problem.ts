import { ProblemType, problemMediaType, type FieldProblem, type Problem, type ProblemTypeUri } from '@hr-events/contract';
import { addLogFields, type IngestContext } from './context.ts';

// Problem details (RFC 9457) for every error response. Clients switch on `type`; `detail` names
// the value at fault and the fix, and `errors` lists every field-level problem.

const titles: Record<ProblemTypeUri, string> = {
  [ProblemType.invalidJson]: 'Request body is not valid JSON',
  [ProblemType.invalidCloudEvent]: 'Invalid CloudEvent',
  [ProblemType.invalidEventData]: 'Invalid event data',
  [ProblemType.unknownEventType]: 'Unknown event type',
  [ProblemType.unsupportedMediaType]: 'Unsupported media type',
  [ProblemType.payloadTooLarge]: 'Request body too large',
  [ProblemType.batchTooLarge]: 'Batch too large',
  [ProblemType.notFound]: 'Not found',
  [ProblemType.methodNotAllowed]: 'Method not allowed',
  [ProblemType.ambiguousEventId]: 'Ambiguous event id',
  [ProblemType.unauthenticated]: 'Unauthenticated',
  [ProblemType.forbidden]: 'Forbidden',
  [ProblemType.rateLimited]: 'Too many requests',
  [ProblemType.publishUnavailable]: 'Publishing is unavailable',
  [ProblemType.storeUnavailable]: 'Event status is unavailable',
  [ProblemType.invalidPushRequest]: 'Invalid push request',
  [ProblemType.poisonMessage]: 'Poison message',
  [ProblemType.internal]: 'Internal server error',
};

/** A problem with RFC 9457 extension members, such as `sources` of an ambiguous event id. */
export type ProblemBody = Problem & Record<string, unknown>;

export function createProblem(type: ProblemTypeUri, status: number, detail: string, errors?: FieldProblem[]): ProblemBody {
  const problem: ProblemBody = { type, title: titles[type], status, detail };
  if (errors !== undefined) problem.errors = errors;
  return problem;
}

export function problemResponse(problem: ProblemBody, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': problemMediaType, ...headers },
  });
}

/** Returns the problem response and adds the problem type to the request's log line. */
export function sendProblem(c: IngestContext, problem: ProblemBody, headers?: Record<string, string>): Response {
  addLogFields(c, { problemType: problem.type });
  return problemResponse(problem, headers);
}

/** Thrown by request parsing to end the request with a problem response. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';

  readonly problem: ProblemBody;

  readonly headers: Record<string, string> | undefined;

  constructor(problem: ProblemBody, headers?: Record<string, string>) {
    super(problem.detail);
    this.problem = problem;
    this.headers = headers;
  }
}

/** Returns a number of seconds as text, for the Retry-After hint in a problem's detail. */
export function secondsText(seconds: number): string {
  return seconds === 1 ? '1 second' : `${seconds} seconds`;
}
