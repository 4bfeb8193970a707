import { setTimeout as sleep } from 'node:timers/promises';
import type { Handler } from 'hono';
import type { Logger } from 'pino';
import {
  PoisonMessageError,
  ProblemType,
  eventKey,
  fromPubSubMessage,
  parseTraceparent,
  traceLogFields,
  type Catalog,
  type DataValidator,
} from '@hr-events/contract';
import type { FirstDeliveryFaults, SlowFirstDeliveries } from './fault-injection.ts';
import { buildOnboardingReceipt, buildOnboardingRecord } from './onboarding-record.ts';
import { StoreUnavailableError, type OnboardingStore } from './onboarding-store.ts';
import { parsePushRequest, type PushRequest } from './push-request.ts';
import { problemResponse } from './problem-response.ts';

// Handles one push request. The status code is the acknowledgement. A 2xx means the effect is
// committed, by this delivery or an earlier one. A 503 or 429 reports a failure that a redelivery
// may not meet. A poison message gets a 400, which Pub/Sub counts as a failed delivery attempt
// until the subscription's max delivery attempts move it to the dead-letter topic.

export interface PushHandlerDependencies {
  store: OnboardingStore;
  catalog: Catalog;
  validator: DataValidator;
  logger: Logger;
  clock: () => Date;
  faults: FirstDeliveryFaults | undefined;
  slowDeliveries?: SlowFirstDeliveries | undefined;
  /** For the trace field of log lines (projects/<id>/traces/<trace id>). */
  projectId: string | undefined;
  /** The subscription's max delivery attempts: a failed delivery at or above it is dead-lettered. */
  maxDeliveryAttempts: number;
}

type Latency = () => { latencyMillis: number };

export function pushHandler(dependencies: PushHandlerDependencies): Handler {
  const { catalog, validator, logger, projectId, maxDeliveryAttempts } = dependencies;

  return async (c) => {
    const startedAt = performance.now();
    const latency = () => ({ latencyMillis: Math.round(performance.now() - startedAt) });

    const parsed = parsePushRequest(c.req.raw.headers, new Uint8Array(await c.req.arrayBuffer()));
    if (parsed.problem !== undefined) {
      logger.warn({ outcome: 'invalid-push-request', ...latency() }, `Push request rejected: ${parsed.problem}.`);
      return problemResponse({ type: ProblemType.invalidPushRequest, title: 'Invalid push request', status: 400, detail: `Invalid push request: ${parsed.problem}.` });
    }

    const request = parsed.request;
    const fields: Record<string, unknown> = {
      messageId: request.message.messageId,
      deliveryAttempt: request.deliveryAttempt,
      subscription: request.subscription,
      pushFormat: request.format,
      ...traceLogFields(parseTraceparent(request.message.attributes?.traceparent), projectId),
    };
    const isLastAttempt = request.deliveryAttempt !== undefined && request.deliveryAttempt >= maxDeliveryAttempts;

    try {
      return await processMessage(request, fields, isLastAttempt, latency);
    } catch (error) {
      logger.error({ ...fields, outcome: 'error', err: error, ...latency() }, 'Push request failed with an unexpected error; responded with 500 so Pub/Sub retries it.');
      return problemResponse({ type: ProblemType.internal, title: 'Internal error', status: 500, detail: 'The message could not be processed; Pub/Sub will retry it.' });
    }
  };

  async function processMessage(
    request: PushRequest,
    fields: Record<string, unknown>,
    isLastAttempt: boolean,
    latency: Latency,
  ): Promise<Response> {
    const { message } = request;

    // A message that cannot be processed fails on every delivery, so it gets a 400 rather than a
    // retriable status, and the subscription's dead-letter policy takes it off the subscription.
    let event;
    try {
      event = fromPubSubMessage(message.data, message.attributes, catalog, validator);
    } catch (error) {
      if (!(error instanceof PoisonMessageError)) throw error;
      return rejectPoison(error, fields, message.attributes, isLastAttempt, latency);
    }

    // Added in place, so that the unexpected-error line of the caller names the event too.
    Object.assign(fields, { eventId: event.id, source: event.source, type: event.type });
    const key = eventKey(event.source, event.id);

    if (dependencies.faults?.shouldFailDelivery(key, message.messageId) === true) {
      logger.warn({ ...fields, outcome: 'retry', injectedFault: true, ...latency() }, 'Injected failure of the first delivery (FAULT_FAIL_FIRST_DELIVERY_PERCENT); responded with 503.');
      return problemResponse({ type: ProblemType.storeUnavailable, title: 'Service unavailable', status: 503, detail: 'Injected failure of the first delivery; Pub/Sub will retry it.' });
    }

    const delayMillis = dependencies.slowDeliveries?.delayFor(key, message.messageId) ?? 0;
    if (delayMillis > 0) {
      logger.warn({ ...fields, injectedDelayMillis: delayMillis }, `Injected delay of the first delivery (FAULT_SLOW_FIRST_DELIVERY_PERCENT): waiting ${delayMillis} ms before the Firestore write.`);
      await sleep(delayMillis);
    }

    const now = dependencies.clock();
    let outcome;
    try {
      outcome = await dependencies.store.recordOnboarding(key, buildOnboardingRecord(event, catalog, message.messageId, now), buildOnboardingReceipt(event, now));
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      return respondForRetry(error, fields, isLastAttempt, latency);
    }

    const processed = outcome === 'created';
    logger.info(
      { ...fields, outcome: processed ? 'processed' : 'duplicate', ...latency() },
      processed ? 'Onboarding record created.' : 'Duplicate delivery acknowledged: the onboarding record for this event already exists.',
    );
    return Response.json({ outcome: processed ? 'processed' : 'duplicate', messageId: message.messageId, eventId: event.id, source: event.source });
  }

  function rejectPoison(error: PoisonMessageError, fields: Record<string, unknown>, attributes: Record<string, string> | undefined, isLastAttempt: boolean, latency: Latency): Response {
    // Invalid-data messages can quote field values, which are personal data; the pointers are not.
    const invalidFields = error.problems.map((problem) => problem.pointer);
    const description = invalidFields.length > 0 ? `invalid fields ${invalidFields.join(', ')}` : error.message;
    // The event's ids as the attributes claim them, which may be missing or wrong in a poison message.
    const claimedIds = { eventId: attributes?.['ce-id'], source: attributes?.['ce-source'], type: attributes?.['ce-type'] };
    const logFields = { ...fields, ...claimedIds, outcome: 'poison', poisonReason: error.reason, invalidFields, ...latency() };
    if (isLastAttempt) {
      logger.error(logFields, `Poison message (${error.reason}: ${description}) failed delivery attempt ${fields.deliveryAttempt} of ${maxDeliveryAttempts}; Pub/Sub moves it to the dead-letter topic.`);
    } else {
      logger.warn(logFields, `Poison message rejected (${error.reason}: ${description}); Pub/Sub redelivers it until the max delivery attempts, then dead-letters it.`);
    }
    return problemResponse({
      type: ProblemType.poisonMessage,
      title: 'Poison message',
      status: 400,
      detail: `Message ${String(fields.messageId)} cannot be processed (${error.reason}: ${description}); it goes to the dead-letter topic after the subscription's max delivery attempts.`,
    });
  }

  function respondForRetry(error: StoreUnavailableError, fields: Record<string, unknown>, isLastAttempt: boolean, latency: Latency): Response {
    const logFields = { ...fields, outcome: 'retry', err: error, grpcCode: error.code, ...latency() };
    if (isLastAttempt) {
      logger.error(logFields, `Storing the onboarding record failed on delivery attempt ${fields.deliveryAttempt} of ${maxDeliveryAttempts}; Pub/Sub moves the message to the dead-letter topic.`);
    } else {
      logger.warn(logFields, `Storing the onboarding record failed (${error.message}); responded with ${error.rateLimited ? 429 : 503} so Pub/Sub retries it.`);
    }
    return error.rateLimited
      ? problemResponse({ type: ProblemType.rateLimited, title: 'Too many requests', status: 429, detail: 'Firestore is over its limits; Pub/Sub will retry the message.' })
      : problemResponse({ type: ProblemType.storeUnavailable, title: 'Service unavailable', status: 503, detail: 'Firestore is unavailable; Pub/Sub will retry the message.' });
  }
}
