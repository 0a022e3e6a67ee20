// Test double of the Redis registry for unit specs: same calls, kept in memory, with a log of
// calls so specs can assert their order against store writes.
import type { DocumentStateSink } from '../ingest.pipeline.ts';
import type { ActiveVersionSource, DocumentRecord, DocumentRef } from '../knowledge.registry.ts';

const keyOf = (doc: DocumentRef) => `${doc.tenantId}|${doc.kbId}|${doc.docId}`;

export class MemoryRegistry implements DocumentStateSink, ActiveVersionSource {
  readonly docs = new Map<string, DocumentRecord>();
  readonly active = new Map<string, string>();
  readonly log: string[] = [];
  /** `tenant|kb` of deleted knowledge bases: activation into them is refused. */
  readonly deletedBases = new Set<string>();

  private update(doc: DocumentRef, patch: Partial<DocumentRecord>) {
    const current = this.docs.get(keyOf(doc)) ?? { ...doc, status: 'queued' as const, progress: { done: 0, total: 0 }, updatedAt: 0 };
    this.docs.set(keyOf(doc), { ...current, ...patch, updatedAt: Date.now() });
  }

  async getDocument(doc: DocumentRef) {
    return this.docs.get(keyOf(doc));
  }

  async startIndexing(doc: DocumentRef, info: { version: string; total: number; title?: string; mediaType?: string }) {
    this.log.push(`startIndexing ${info.version}`);
    const { total, ...rest } = info;
    this.update(doc, { ...rest, status: 'indexing', progress: { done: 0, total }, error: undefined });
  }

  async progress(doc: DocumentRef, done: number) {
    const current = this.docs.get(keyOf(doc))!;
    this.update(doc, { progress: { done, total: current.progress.total } });
  }

  async activate(doc: DocumentRef, info: { version: string; fingerprint: string; chunks: number; embedded: number; reused: number; keywords?: readonly string[]; changeId?: string }) {
    if (this.deletedBases.has(`${doc.tenantId}|${doc.kbId}`)) return false;
    this.log.push(`activate ${info.version}`);
    this.active.set(keyOf(doc), info.version);
    this.update(doc, { status: 'indexed', version: info.version, activeVersion: info.version, fingerprint: info.fingerprint, chunks: info.chunks, keywords: [...(info.keywords ?? [])], progress: { done: info.chunks, total: info.chunks }, ...(info.changeId ? { changeId: info.changeId } : {}) });
    return true;
  }

  async fail(doc: DocumentRef, reason: string, version?: string) {
    this.log.push(`fail ${reason}`);
    this.update(doc, { status: 'failed', error: reason, ...(version ? { version } : {}) });
  }

  async startDeleting(doc: DocumentRef) {
    this.log.push('startDeleting');
    this.active.delete(keyOf(doc));
    this.update(doc, { status: 'deleting', activeVersion: undefined });
  }

  async removeDocument(doc: DocumentRef) {
    this.log.push('removeDocument');
    this.docs.delete(keyOf(doc));
    this.active.delete(keyOf(doc));
  }

  async activeVersions(tenantId: string, kbIds: readonly string[]) {
    const out = new Map<string, Map<string, string>>(kbIds.map((kbId) => [kbId, new Map()]));
    for (const [key, version] of this.active) {
      const [t, kb, docId] = key.split('|') as [string, string, string];
      if (t === tenantId && out.has(kb)) out.get(kb)!.set(docId, version);
    }
    return out;
  }
}
