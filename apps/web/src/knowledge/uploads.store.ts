// The upload panel's state: one row per file with its progress through sending (the first half
// of the bar) and indexing (the second half), polled from the document resource until it is
// indexed or failed.
import { messageOf, statusOf } from '../settings/http-error.ts';
import { sleep, Store } from '../support/store.ts';
import { indexingFraction, type DocumentView } from './indexing.ts';
import type { KnowledgeApi } from './knowledge.client.ts';

export type UploadStatus = 'queued' | 'uploading' | 'indexing' | 'indexed' | 'failed';

export interface UploadRow {
  key: string;
  name: string;
  status: UploadStatus;
  text: string;
  /** 0..1 over sending and indexing. */
  fraction: number;
  docId?: string;
}

export class Uploads extends Store<readonly UploadRow[]> {
  private counter = 0;

  constructor(
    private readonly api: KnowledgeApi,
    private readonly wait: (ms: number) => Promise<void> = sleep,
  ) {
    super([]);
  }

  async uploadAll(kb: string, files: readonly File[]): Promise<void> {
    try {
      await this.api.ensureKnowledgeBase(kb);
    } catch (error) {
      const key = this.addRow(files.map((file) => file.name).join(', '));
      return this.patch(key, { status: 'failed', text: `cannot create knowledge base "${kb}": ${messageOf(error)}`, fraction: 0 });
    }
    await Promise.all(files.map((file) => this.uploadOne(kb, file)));
  }

  private async uploadOne(kb: string, file: File): Promise<void> {
    const key = this.addRow(file.name);
    this.patch(key, { status: 'uploading', text: 'uploading 0%', fraction: 0 });
    let doc: DocumentView;
    try {
      doc = await this.api.upload(kb, file, (fraction) => this.patch(key, { status: 'uploading', text: `uploading ${Math.round(fraction * 100)}%`, fraction: fraction / 2 }));
    } catch (error) {
      return this.patch(key, { status: 'failed', text: messageOf(error), fraction: 0 });
    }
    this.patch(key, { docId: doc.id });
    for (let attempt = 0; ; attempt++) {
      const fraction = indexingFraction(doc);
      if (doc.status === 'indexed') return this.patch(key, { status: 'indexed', text: `indexed${doc.chunks !== undefined ? ` · ${doc.chunks} chunks` : ''}`, fraction: 1 });
      if (doc.status === 'failed') {
        const reason = typeof doc.error === 'string' ? doc.error : (doc.error?.message ?? 'unknown error');
        return this.patch(key, { status: 'failed', text: `failed: ${reason}`, fraction: 0 });
      }
      this.patch(key, { status: 'indexing', text: `${doc.stage ?? doc.status ?? 'indexing'} ${Math.round(fraction * 100)}%`, fraction: 0.5 + fraction / 2 });
      await this.wait(Math.min(2_000, 200 * 1.5 ** attempt));
      try {
        doc = { ...(await this.api.document(kb, doc.id)), id: doc.id };
      } catch (error) {
        if (statusOf(error) === 404 || attempt > 300) return this.patch(key, { status: 'failed', text: messageOf(error), fraction: 0 });
      }
    }
  }

  /** Newest first, as the list shows them. */
  private addRow(name: string): string {
    const key = `u${++this.counter}`;
    this.set([{ key, name, status: 'queued', text: '', fraction: 0 }, ...this.value]);
    return key;
  }

  private patch(key: string, patch: Partial<Omit<UploadRow, 'key' | 'name'>>): void {
    this.set(this.value.map((row) => (row.key === key ? { ...row, ...patch } : row)));
  }
}
