import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { ProblemType, maxBodyBytes, topology, type Catalog, type DataValidator } from '@hr-events/contract';
import type { FirstDeliveryFaults, SlowFirstDeliveries } from './fault-injection.ts';
import type { OnboardingStore } from './onboarding-store.ts';
import { problemResponse } from './problem-response.ts';
import { pushHandler } from './push-handler.ts';

// The push consumer's HTTP surface, built from injected parts so that tests drive it through
// app.request() with their own store, certificates and clock.

export interface AppDependencies {
  /** Verifies push requests (pushAuthentication); 'disabled' only for the emulator, which sends no token. */
  authentication: MiddlewareHandler | 'disabled';
  store: OnboardingStore;
  catalog: Catalog;
  validator: DataValidator;
  logger: Logger;
  clock?: () => Date;
  faults?: FirstDeliveryFaults;
  slowDeliveries?: SlowFirstDeliveries;
  projectId?: string;
  maxDeliveryAttempts?: number;
  pushPath?: string;
}

// An event the ingest accepts fits in maxBodyBytes. Base64 adds a third, and the envelope and the
// attributes add a few kilobytes, so twice that limit admits every such message.
export const maxPushBodyBytes = 2 * maxBodyBytes;

export function createApp(dependencies: AppDependencies): Hono {
  const { logger } = dependencies;
  const subscription = topology().subscriptions.onboarding;
  const pushPath = dependencies.pushPath ?? subscription.pushPath;
  const app = new Hono();

  app.get('/health', (c) => c.json({ status: 'ok' }));

  // Authentication first, so that an unauthenticated request never has its body read.
  if (dependencies.authentication !== 'disabled') app.use(pushPath, dependencies.authentication);
  app.post(
    pushPath,
    bodyLimit({
      maxSize: maxPushBodyBytes,
      onError: () => {
        logger.warn({ outcome: 'invalid-push-request', maxPushBodyBytes }, `Push request rejected: the body is larger than ${maxPushBodyBytes} bytes.`);
        return problemResponse({
          type: ProblemType.payloadTooLarge,
          title: 'Payload too large',
          status: 413,
          detail: `The push request body exceeds ${maxPushBodyBytes} bytes, more than any event the ingest accepts.`,
        });
      },
    }),
    pushHandler({
      store: dependencies.store,
      catalog: dependencies.catalog,
      validator: dependencies.validator,
      logger,
      clock: dependencies.clock ?? (() => new Date()),
      faults: dependencies.faults,
      slowDeliveries: dependencies.slowDeliveries,
      projectId: dependencies.projectId,
      maxDeliveryAttempts: dependencies.maxDeliveryAttempts ?? subscription.maxDeliveryAttempts,
    }),
  );

  app.notFound((c) =>
    problemResponse({ type: ProblemType.notFound, title: 'Not found', status: 404, detail: `No route for ${c.req.method} ${c.req.path}; Pub/Sub pushes to POST ${pushPath}.` }),
  );
  app.onError((error) => {
    logger.error({ err: error }, 'Request failed with an unexpected error; responded with 500.');
    return problemResponse({ type: ProblemType.internal, title: 'Internal error', status: 500, detail: 'The request failed; the cause is in the service log.' });
  });
  return app;
}
