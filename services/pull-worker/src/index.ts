// The pull worker's modules, for tests and tools that run it in-process. The process entry is server.ts.
export * from './config.ts';
export * from './directory-store.ts';
export * from './event-order.ts';
export * from './fault-injection.ts';
export * from './handler.ts';
export * from './health.ts';
export * from './ordering-key-queue.ts';
export * from './worker.ts';
