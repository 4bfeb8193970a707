// The push consumer's public surface, for tests and tools that build the app in-process. The
// process entry is server.ts.
export { createApp, maxPushBodyBytes, type AppDependencies } from './app.ts';
export { buildChecklist, type ChecklistItem } from './checklist.ts';
export { ConfigError, defaults, readConfig, type PushAuthenticationMode, type PushConsumerConfig } from './config.ts';
export { FirstDeliveryFaults, SlowFirstDeliveries } from './fault-injection.ts';
export { buildOnboardingReceipt, buildOnboardingRecord, type OnboardingReceipt, type OnboardingRecord } from './onboarding-record.ts';
export { FirestoreOnboardingStore, StoreUnavailableError, type OnboardingStore, type RecordOutcome } from './onboarding-store.ts';
export { googleCertificates, googleIssuers, pushAuthentication, type CertificateSource, type PushAuthenticationOptions } from './push-authentication.ts';
export { parsePushRequest, unwrappedHeaders, type PushRequest, type PushedMessage } from './push-request.ts';
