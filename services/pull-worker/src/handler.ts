import type { Logger } from 'pino';
import {
  eventKey,
  fromPubSubMessage,
  parseTraceparent,
  PoisonMessageError,
  traceLogFields,
  type Catalog,
  type DataValidator,
  type HrCloudEvent,
} from '@hr-events/contract';
import type { DirectoryOutcome, DirectoryStore } from './directory-store.ts';
import type { FirstDeliveryFault } from './fault-injection.ts';

// Turns one Pub/Sub message into an outcome and the matching ack or nack. The message is acked
// only after the directory transaction has committed. Every other outcome is a nack, and the
// subscription's retry and dead-letter policies decide what happens next.

/**
 * `poison`: the message can never be processed, so it is nacked until Pub/Sub forwards it to the
 * dead-letter topic. `retry`: a failure that may pass (Firestore unavailable, contention, an
 * injected fault), so it is nacked for redelivery.
 */
export type MessageOutcome = DirectoryOutcome | 'poison' | 'retry';

/** The part of a Pub/Sub `Message` that the handler uses, so that tests can pass plain objects. */
export interface ReceivedMessage {
  id: string;
  data: Buffer;
  attributes: Record<string, string>;
  /** 1 on the first delivery, or 0 on every delivery when the subscription has no dead-letter policy. */
  deliveryAttempt: number;
  orderingKey?: string;
  /** Milliseconds since the epoch at which this worker received the message. */
  received: number;
  ack(): void;
  nack(): void;
}

export interface MessageHandlerOptions {
  catalog: Catalog;
  validator: DataValidator;
  store: DirectoryStore;
  logger: Logger;
  /** For the trace field of log lines. */
  projectId: string;
  /** The subscription's dead-letter setting, to say when a nack sends the message to the dead-letter topic. */
  maxDeliveryAttempts: number;
  fault?: FirstDeliveryFault;
  now?: () => Date;
}

export type MessageHandler = (message: ReceivedMessage) => Promise<MessageOutcome>;

export function createMessageHandler(options: MessageHandlerOptions): MessageHandler {
  const { catalog, validator, store, logger, projectId, maxDeliveryAttempts, fault } = options;
  const now = options.now ?? (() => new Date());

  return async function handleMessage(message) {
    const isLastAttempt = message.deliveryAttempt >= maxDeliveryAttempts;
    const fields = () => ({ ...messageLogFields(message, projectId), latencyMillis: now().getTime() - message.received });

    // Decode and validate with the edge's own schema. A poison message stays poison on every delivery.
    let event: HrCloudEvent;
    try {
      event = fromPubSubMessage(message.data, message.attributes, catalog, validator);
    } catch (error) {
      message.nack();
      if (!(error instanceof PoisonMessageError)) {
        logger.error({ ...fields(), outcome: 'retry', isLastAttempt, err: error }, 'decoding the message failed unexpectedly; nacked for redelivery');
        return 'retry';
      }
      const reasonFields = poisonLogFields(error);
      if (isLastAttempt) {
        logger.error(
          { ...fields(), outcome: 'poison', ...reasonFields, maxDeliveryAttempts, isLastAttempt },
          'poison message nacked on its last delivery attempt; Pub/Sub forwards it to the dead-letter topic',
        );
      } else {
        logger.warn(
          { ...fields(), outcome: 'poison', ...reasonFields, maxDeliveryAttempts, isLastAttempt },
          'poison message nacked; Pub/Sub forwards it to the dead-letter topic after the last delivery attempt',
        );
      }
      return 'poison';
    }

    const key = eventKey(event.source, event.id);
    if (fault?.shouldFail(message.id, key, message.deliveryAttempt)) {
      message.nack();
      logger.warn({ ...fields(), outcome: 'retry', fault: 'FAULT_FAIL_FIRST_DELIVERY_PERCENT' }, 'injected failure: first delivery nacked');
      return 'retry';
    }

    // Ack only once the transaction has committed, so an acked message always has its effect.
    let outcome: DirectoryOutcome;
    try {
      outcome = await store.record(event, now());
    } catch (error) {
      message.nack();
      const failure = { ...fields(), outcome: 'retry', isLastAttempt, errorCode: (error as { code?: unknown }).code, err: error };
      if (isLastAttempt) {
        logger.error(failure, 'directory write failed on the last delivery attempt; nacked, so Pub/Sub forwards the message to the dead-letter topic');
      } else {
        logger.warn(failure, 'directory write failed; nacked for redelivery');
      }
      return 'retry';
    }
    message.ack();
    logger.info({ ...fields(), outcome, personId: event.data.personId }, outcomeMessages[outcome]);
    return outcome;
  };
}

const outcomeMessages: Record<DirectoryOutcome, string> = {
  processed: 'event recorded in the directory; acked',
  stale: 'event older than the directory entry, recorded as stale; acked',
  duplicate: 'event already recorded by the directory, no second effect; acked',
};

/** Returns the ids and trace fields of a message, read from its attributes and never from its data. */
function messageLogFields(message: ReceivedMessage, projectId: string): Record<string, unknown> {
  const attributes = message.attributes ?? {};
  return {
    messageId: message.id,
    eventId: attributes['ce-id'],
    source: attributes['ce-source'],
    type: attributes['ce-type'],
    deliveryAttempt: message.deliveryAttempt,
    ...traceLogFields(parseTraceparent(attributes.traceparent), projectId),
  };
}

// Field problems can quote data (a date bound names the other field's value), so invalid data is
// logged by the pointers of its fields alone. The other reasons describe attributes or the encoding.
function poisonLogFields(error: PoisonMessageError): Record<string, unknown> {
  if (error.reason === 'invalid-data') {
    return { reason: error.reason, invalidFields: error.problems.map((problem) => problem.pointer) };
  }
  return { reason: error.reason, detail: error.message };
}
