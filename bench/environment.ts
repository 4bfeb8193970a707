// Imported first by run.ts, before any Google client library loads: every client in the benchmark
// talks to the emulators, and none may look for credentials on a metadata server.
process.env.METADATA_SERVER_DETECTION = 'none';
