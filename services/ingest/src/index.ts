// The ingest's public surface, for scripts such as the benchmark that build the app in-process.
export { createApp, type IngestDependencies } from './app.ts';
export { SourceAccess, type Principal, type SourceAccessOptions } from './auth/source-access.ts';
export { loadSourcesFile } from './auth/sources-file.ts';
export { BoundedPublisher, type PublishLimits, type PublishOutcome } from './bounded-publisher.ts';
export { ConfigError, readConfig, type IngestConfig } from './config.ts';
export { defaults, tuning } from './defaults.ts';
export { PubSubEventPublisher, type EventPublisher, type PubSubPublisherOptions } from './publisher.ts';
export { FirestoreStatusReader, type StatusReader } from './status.ts';
