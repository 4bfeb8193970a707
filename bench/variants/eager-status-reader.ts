import { Firestore, type Settings } from '@google-cloud/firestore';
import type { EventReceipt } from '@hr-events/contract';
import { FirestoreStatusReader } from '../../services/ingest/src/status.ts';

// The ingest's status reader before the benchmark work: the Firestore client library is imported
// with the rest of the bundle and the client is created at start, before the server listens.

export class LazyFirestoreStatusReader extends FirestoreStatusReader {
  private readonly client: Firestore;

  constructor(settings: Settings) {
    const client = new Firestore(settings);
    super(client);
    this.client = client;
  }

  override async findReceipts(id: string, source: string | undefined): Promise<EventReceipt[]> {
    return super.findReceipts(id, source);
  }

  async close(): Promise<void> {
    await this.client.terminate();
  }
}
