import {
  PoisonMessageError,
  authorize,
  fromPubSubMessage,
  principalAttribute,
  sourcePolicyOf,
  type Catalog,
  type DataValidator,
  type SourcesFile,
} from '@hr-events/contract';

// What the dead-letter tool knows about one dead-lettered message, and whether it may go back on
// the HR topic. Pub/Sub does not record why a consumer gave up on a message, so the tool checks the
// message again with the contract's `fromPubSubMessage` (what both consumers run) and with the
// source policy that the ingest applies, against the principal named by the message.

/** A message pulled from the dead-letter subscription, in the fields the tool uses. */
export interface DeadLetterMessage {
  /** Message id on the dead-letter topic, which differs from the id it had on the HR topic. */
  messageId: string;
  data: Buffer;
  attributes: Record<string, string>;
  orderingKey: string;
  /** RFC 3339 time at which Pub/Sub forwarded the message to the dead-letter topic. */
  publishTime: string;
}

/**
 * Why a message may not be replayed. `poison`: the contract rejects it (the reason is the
 * contract's PoisonReason). `policy`: the principal may not send the event's source or type.
 * `principal`: the message names no principal, or one that the sources file does not list.
 */
export interface ReplayProblem {
  kind: 'poison' | 'policy' | 'principal';
  reason: string;
  detail: string;
}

export interface DeadLetterEntry {
  messageId: string;
  eventId: string | undefined;
  source: string | undefined;
  type: string | undefined;
  principal: string | undefined;
  /** Subscription the message was dead-lettered from, as Pub/Sub records it in the message's attributes. */
  sourceSubscription: string | undefined;
  /** Delivery attempts on that subscription before it was dead-lettered. */
  deliveryAttempts: number | undefined;
  deadLetteredAt: string;
  /** Undefined when the message passes every check and may be replayed. */
  problem: ReplayProblem | undefined;
}

export interface CheckContext {
  catalog: Catalog;
  validator: DataValidator;
  sources: SourcesFile;
}

// Attributes that Pub/Sub adds on the way: the dead-letter policy's CloudPubSubDeadLetter*, and the
// googclient_* attributes of a topic with a schema. Pub/Sub rejects a published attribute whose
// name starts with "goog", and the others describe the last trip only, so a replay drops both.
const addedAttributePattern = /^(CloudPubSubDeadLetter|googclient_)/;

export function describeDeadLetter(message: DeadLetterMessage, context: CheckContext): DeadLetterEntry {
  const attributes = message.attributes;
  const deliveryCount = Number(attributes.CloudPubSubDeadLetterSourceDeliveryCount);
  return {
    messageId: message.messageId,
    eventId: attributes['ce-id'],
    source: attributes['ce-source'],
    type: attributes['ce-type'],
    principal: attributes[principalAttribute],
    sourceSubscription: attributes.CloudPubSubDeadLetterSourceSubscription,
    deliveryAttempts: Number.isInteger(deliveryCount) && deliveryCount > 0 ? deliveryCount : undefined,
    deadLetteredAt: message.publishTime,
    problem: findReplayProblem(message, context),
  };
}

/** Runs the consumers' checks, then the ingest's source policy; returns the first problem found. */
export function findReplayProblem(message: DeadLetterMessage, context: CheckContext): ReplayProblem | undefined {
  let event;
  try {
    event = fromPubSubMessage(message.data, message.attributes, context.catalog, context.validator);
  } catch (error) {
    if (!(error instanceof PoisonMessageError)) throw error;
    // A field problem can quote a value of the event, which is personal data; its pointer cannot.
    const detail = error.problems.length > 0 ? `invalid fields ${error.problems.map((problem) => problem.pointer).join(', ')}` : error.message;
    return { kind: 'poison', reason: error.reason, detail };
  }

  const principalName = message.attributes[principalAttribute];
  if (principalName === undefined) {
    return {
      kind: 'principal',
      reason: 'no-principal',
      detail: `the message has no "${principalAttribute}" attribute, so it did not come through the ingest and no source policy applies to it`,
    };
  }
  const principal = context.sources.principals.find((candidate) => candidate.name === principalName);
  if (principal === undefined) {
    return { kind: 'principal', reason: 'unknown-principal', detail: `principal "${principalName}" is not in the sources file; it may have been removed since` };
  }
  const violations = authorize(sourcePolicyOf(principal), event);
  if (violations.length > 0) {
    return { kind: 'policy', reason: 'not-allowed', detail: violations.map((violation) => violation.detail).join('; ') };
  }
  return undefined;
}

/** Returns the attributes to publish again: the message's own, without those Pub/Sub added. */
export function replayAttributes(attributes: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(attributes).filter(([name]) => !addedAttributePattern.test(name)));
}
