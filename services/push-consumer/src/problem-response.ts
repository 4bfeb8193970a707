import { problemMediaType, type Problem } from '@hr-events/contract';

/** Builds an RFC 9457 problem response. */
export function problemResponse(problem: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': problemMediaType, ...headers },
  });
}
