import { flushCompileCache, getCompileCacheDir } from 'node:module';

// Fills Node's compile cache (the folder named by NODE_COMPILE_CACHE) with the compiled code of
// the Google Cloud client libraries that a service loads after it starts listening. The ingest's
// image runs this once at build time, so that every cold start reads that code instead of
// compiling it again (BENCHMARKS.md gives the figures). It loads the libraries and creates a
// publisher client with its gRPC stub as the ingest does, aimed at a closed loopback port, and
// sends no request.

if (getCompileCacheDir() === undefined) {
  console.error('NODE_COMPILE_CACHE is not set: set it to the folder the service will read its compile cache from.');
  process.exit(2);
}

process.env.PUBSUB_EMULATOR_HOST = '127.0.0.1:9';
process.env.METADATA_SERVER_DETECTION = 'none';

const { PubSub, v1 } = await import('@google-cloud/pubsub');
const pubsub = new PubSub({ projectId: 'compile-cache' });
const config = await pubsub.getClientConfig();
const publisher = new v1.PublisherClient(config as ConstructorParameters<typeof v1.PublisherClient>[0]);
await publisher.initialize();
await import('@google-cloud/firestore');
await import('google-auth-library');

await publisher.close();
await pubsub.close();
flushCompileCache();
console.log(`Filled the compile cache in ${getCompileCacheDir()}.`);
