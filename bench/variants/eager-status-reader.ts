import { Firestore, type Settings } from '@google-cloud/firestore';
import { FirestoreStatusReader } from '../../services/ingest/src/status.ts';

// The ingest's status reader before the benchmark work: the Firestore client library is imported
// with the rest of the bundle and the client is created at start, before the server listens. The
// class has the name that server.ts imports, because the benchmark's build swaps this file in.

export class LazyFirestoreStatusReader extends FirestoreStatusReader {
  private readonly client: Firestore;

  constructor(settings: Settings) {
    const client = new Firestore(settings);
    super(client);
    this.client = client;
  }

  async close(): Promise<void> {
    await this.client.terminate();
  }
}
