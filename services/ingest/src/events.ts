import {
  ProblemType,
  maxEventsPerBatch,
  parseBinaryEvent,
  parseStructuredEvent,
  type DataValidator,
  type FieldProblem,
  type HrCloudEvent,
  type ParseResult,
  type ProblemTypeUri,
} from '@hr-events/contract';
import type { EventMode } from './media-type.ts';
import { createProblem, ProblemError, type ProblemBody } from './problem.ts';

// Turns a parsed request body into validated events. A batch is all or nothing: the problems of
// every invalid member are reported together, each pointer starting with the member's index.

export interface EventRequest {
  mode: EventMode;
  body: unknown;
  headers: Headers;
  contentType: string;
  receivedAt: Date;
}

/** A rejected event: its problems, the pointer prefix they start with, and whether its type is unknown. */
interface Rejection {
  prefix: string;
  typePointer: string;
  hasUnknownType: boolean;
  problems: FieldProblem[];
}

/** Returns the request's events, or throws a problem listing everything wrong with them. */
export function parseEvents(request: EventRequest, validator: DataValidator): HrCloudEvent[] {
  if (request.mode === 'batch') return parseBatch(request.body, validator, request.receivedAt);

  let result: ParseResult;
  let rejection: Rejection;
  if (request.mode === 'binary') {
    result = parseBinaryEvent(request.headers, request.contentType, request.body, validator, request.receivedAt);
    if (result.event !== undefined) return [result.event];
    const type = decodeHeader(request.headers.get('ce-type'));
    rejection = { prefix: '', typePointer: '/headers/ce-type', hasUnknownType: isUnknownType(type, validator), problems: result.problems };
  } else {
    result = parseStructuredEvent(request.body, validator, '', request.receivedAt);
    if (result.event !== undefined) return [result.event];
    rejection = { prefix: '', typePointer: '/type', hasUnknownType: isUnknownType(typeMember(request.body), validator), problems: result.problems };
  }
  throw new ProblemError(rejectionProblem([rejection], 1, false));
}

function parseBatch(body: unknown, validator: DataValidator, receivedAt: Date): HrCloudEvent[] {
  if (!Array.isArray(body)) {
    const detail = `A batch must be a JSON array of 1 to ${maxEventsPerBatch} CloudEvents; wrap the events in [ ] or send one event as application/cloudevents+json.`;
    throw new ProblemError(createProblem(ProblemType.invalidCloudEvent, 400, detail, [{ pointer: '', detail: 'must be a JSON array' }]));
  }
  if (body.length === 0) {
    const detail = `The batch is empty; send 1 to ${maxEventsPerBatch} events in the array.`;
    throw new ProblemError(createProblem(ProblemType.invalidCloudEvent, 400, detail, [{ pointer: '', detail: 'must contain at least one event' }]));
  }
  if (body.length > maxEventsPerBatch) {
    const detail = `The batch has ${body.length} events, more than ${maxEventsPerBatch}; split it into batches of at most ${maxEventsPerBatch} events.`;
    throw new ProblemError(createProblem(ProblemType.batchTooLarge, 413, detail, [{ pointer: '', detail: `must contain at most ${maxEventsPerBatch} events` }]));
  }

  const events: HrCloudEvent[] = [];
  const rejections: Rejection[] = [];
  for (let index = 0; index < body.length; index += 1) {
    const member: unknown = body[index];
    const prefix = `/${index}`;
    const result = parseStructuredEvent(member, validator, prefix, receivedAt);
    if (result.event !== undefined) {
      events.push(result.event);
    } else {
      rejections.push({ prefix, typePointer: `${prefix}/type`, hasUnknownType: isUnknownType(typeMember(member), validator), problems: result.problems });
    }
  }
  if (rejections.length > 0) throw new ProblemError(rejectionProblem(rejections, body.length, true));
  return events;
}

/**
 * Builds the 400 problem for rejected events. Its type names what the client must fix first: the
 * envelope, then the type, then the data. Data is only checked against a known type, so an unknown
 * type hides data problems until it is fixed.
 */
function rejectionProblem(rejections: Rejection[], total: number, isBatch: boolean): ProblemBody {
  const errors = rejections.flatMap((rejection) => rejection.problems);
  const type = problemTypeOf(rejections);
  const first = errors[0] as FieldProblem;
  const firstText = `${first.pointer} ${first.detail}`;

  if (isBatch) {
    const detail =
      `${rejections.length} of ${total} events in the batch are invalid, so none was published (first problem: ${firstText}); ` +
      'fix every problem listed in errors and resend the whole batch.';
    return createProblem(type, 400, detail, errors);
  }
  if (type === ProblemType.unknownEventType) {
    return createProblem(type, 400, `${capitalize(first.detail)}; send one of those types.`, errors);
  }
  const summary = type === ProblemType.invalidCloudEvent ? 'The event is not a valid CloudEvent' : 'The event data does not match the schema of its type';
  const detail = `${summary} (${plural(errors.length, 'problem')}, first: ${firstText}); fix every problem listed in errors and resend.`;
  return createProblem(type, 400, detail, errors);
}

function problemTypeOf(rejections: Rejection[]): ProblemTypeUri {
  let hasUnknownType = false;
  for (const rejection of rejections) {
    hasUnknownType ||= rejection.hasUnknownType;
    for (const problem of rejection.problems) {
      const relative = problem.pointer.slice(rejection.prefix.length);
      const isDataProblem = relative === '/data' || relative.startsWith('/data/');
      const isTypeProblem = rejection.hasUnknownType && problem.pointer === rejection.typePointer;
      if (!isDataProblem && !isTypeProblem) return ProblemType.invalidCloudEvent;
    }
  }
  return hasUnknownType ? ProblemType.unknownEventType : ProblemType.invalidEventData;
}

function typeMember(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
}

function isUnknownType(type: unknown, validator: DataValidator): boolean {
  return typeof type === 'string' && type !== '' && !validator.hasType(type);
}

/** Decodes a percent-encoded ce-* header; undefined when absent or undecodable. */
function decodeHeader(value: string | null): string | undefined {
  if (value === null) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
