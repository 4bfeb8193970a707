// Problem types (RFC 9457) returned by the HTTP services. Each URI is stable and documented in the
// README; clients switch on `type`, never on `title` or `detail`.
const base = 'https://hr-events.dev/problems/';

export const ProblemType = {
  invalidJson: `${base}invalid-json`,
  invalidCloudEvent: `${base}invalid-cloudevent`,
  invalidEventData: `${base}invalid-event-data`,
  unknownEventType: `${base}unknown-event-type`,
  unsupportedMediaType: `${base}unsupported-media-type`,
  payloadTooLarge: `${base}payload-too-large`,
  batchTooLarge: `${base}batch-too-large`,
  notFound: `${base}not-found`,
  methodNotAllowed: `${base}method-not-allowed`,
  ambiguousEventId: `${base}ambiguous-event-id`,
  unauthenticated: `${base}unauthenticated`,
  forbidden: `${base}forbidden`,
  rateLimited: `${base}rate-limited`,
  publishUnavailable: `${base}publish-unavailable`,
  storeUnavailable: `${base}store-unavailable`,
  invalidPushRequest: `${base}invalid-push-request`,
  poisonMessage: `${base}poison-message`,
  internal: `${base}internal`,
} as const;

export type ProblemTypeUri = (typeof ProblemType)[keyof typeof ProblemType];

/** One field-level problem: where it is (a JSON Pointer into the request body) and what to fix. */
export interface FieldProblem {
  pointer: string;
  detail: string;
}

/** RFC 9457 problem details, with the field-level problems in `errors`. */
export interface Problem {
  type: ProblemTypeUri;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldProblem[];
}

export const problemMediaType = 'application/problem+json';
