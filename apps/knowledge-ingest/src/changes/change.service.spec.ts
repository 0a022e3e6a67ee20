import type { Envelope } from '@aip/contracts';
import { IngestError, type DocumentRecord, type IngestPipeline, type KnowledgeRegistry } from '@aip/knowledge';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { KbEvents } from '../common/kb-events.ts';
import { ContentStore } from '../content/content.store.ts';
import type { UploadQuota } from '../content/upload.quota.ts';
import type { KnowledgeIngestEnv } from '../knowledge-ingest.config.ts';
import { ChangeService } from './change.service.ts';

const envelope = (data: Record<string, unknown>) => ({ id: 'e1', type: 'kb.change.upsert', version: 1, source: 't', time: new Date().toISOString(), tenantId: 'acme', data }) as unknown as Envelope<'kb.change.upsert'>;

function setup(ingest: () => Promise<unknown>, state: { deletedAt?: number; document?: Partial<DocumentRecord>; contents?: ContentStore } = {}) {
  const published: { type: string; data: Record<string, unknown>; tenantId: string }[] = [];
  const failed: string[] = [];
  const released: string[] = [];
  const created: unknown[] = [];
  const removed: unknown[] = [];
  const ingested: unknown[] = [];
  const registry = {
    getKnowledgeBase: async () => undefined,
    knowledgeBaseDeletedAt: async () => state.deletedAt,
    ensureKnowledgeBase: async (record: { chunkSize: number; chunkOverlap: number }) => (state.deletedAt === undefined ? (created.push(record), { ...record, createdAt: 0 }) : undefined),
    getDocument: async () => state.document,
    removeDocument: async (doc: unknown) => void removed.push(doc),
    fail: async (_doc: unknown, reason: string) => void failed.push(reason),
  } as unknown as KnowledgeRegistry;
  const pipeline = { ingest: async (request: unknown) => (ingested.push(request), ingest()), remove: async () => 3 } as unknown as IngestPipeline;
  const contents = state.contents ?? ({ read: async () => new Uint8Array([1]), release: async (ref: string) => void released.push(ref) } as unknown as ContentStore);
  const events = { publish: async (type: string, data: Record<string, unknown>, tenantId: string) => void published.push({ type, data, tenantId }) } as unknown as KbEvents;
  const env = { DEFAULT_CHUNK_SIZE: 500, DEFAULT_CHUNK_OVERLAP: 50 } as KnowledgeIngestEnv;
  const unreserved: string[] = [];
  const quota = { release: async (tenantId: string, ref: string) => void unreserved.push(`${tenantId} ${ref}`) } as unknown as UploadQuota;
  const service = new ChangeService(pipeline, registry, contents, events, env, pino({ level: 'silent' }), quota);
  return { service, published, failed, released, created, removed, ingested, unreserved };
}

describe('ChangeService', () => {
  it("publishes indexed with the result and releases the upload and its place in the tenant's quota", async () => {
    const { service, published, released, created, unreserved } = setup(async () => ({ version: 'v1', chunks: 4, embedded: 3, reused: 1, unchanged: false, durationMs: 12, keywords: ['beijing'] }));
    await service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', contentRef: 'local:uploads/x' }));
    expect(published).toEqual([{ type: 'kb.document.indexed', tenantId: 'acme', data: { kbId: 'kb', docId: 'd', version: 'v1', chunks: 4, embedded: 3, reused: 1, durationMs: 12, keywords: ['beijing'] } }]);
    expect(released).toEqual(['local:uploads/x']);
    expect(unreserved).toEqual(['acme local:uploads/x']);
    // A knowledge base first named by a change gets the default settings.
    expect(created).toEqual([expect.objectContaining({ tenantId: 'acme', kbId: 'kb', chunkSize: 500, chunkOverlap: 50 })]);
  });

  it('acks poison input: marks it failed, publishes the reason, does not throw', async () => {
    const { service, published, failed, released, unreserved } = setup(async () => {
      throw new IngestError('bad_encoding', 'not UTF-8');
    });
    await expect(service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', contentRef: 'local:uploads/x', version: '3' }))).resolves.toBeUndefined();
    expect(failed).toEqual(['bad_encoding: not UTF-8']);
    expect(published).toEqual([{ type: 'kb.document.failed', tenantId: 'acme', data: { kbId: 'kb', docId: 'd', version: '3', reason: 'bad_encoding: not UTF-8' } }]);
    expect(released).toEqual(['local:uploads/x']);
    expect(unreserved).toEqual(['acme local:uploads/x']);
  });

  it('acks a document beyond a resource limit like poison input (too_large, parse_timeout): never retried', async () => {
    for (const code of ['too_large', 'parse_timeout'] as const) {
      const { service, published, failed, unreserved } = setup(async () => {
        throw new IngestError(code, 'beyond the limit');
      });
      await expect(service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'application/pdf', contentRef: 'local:uploads/x' }), 1)).resolves.toBeUndefined();
      expect(failed).toEqual([`${code}: beyond the limit`]);
      expect(published.map((e) => e.data['reason'])).toEqual([`${code}: beyond the limit`]);
      expect(unreserved).toEqual(['acme local:uploads/x']);
    }
  });

  it('throws transient errors for a retry, keeping the content; on the last attempt the document is marked failed', async () => {
    const { service, published, failed, released, unreserved } = setup(async () => {
      throw new Error('store unavailable');
    });
    await expect(service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', contentRef: 'local:uploads/x' }), 1)).rejects.toThrow('store unavailable');
    expect(failed).toEqual([]);
    expect(released).toEqual([]);
    expect(unreserved).toEqual([]);
    await expect(service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', contentRef: 'local:uploads/x' }), 16)).rejects.toThrow('store unavailable');
    expect(failed).toEqual(['gave up after 16 attempts: store unavailable']);
    expect(published.map((e) => e.type)).toEqual(['kb.document.failed']);
    // Dead-lettered: the upload does not stay on disk, nor in the quota.
    expect(released).toEqual(['local:uploads/x']);
    expect(unreserved).toEqual(['acme local:uploads/x']);
  });

  it('drops a change queued before its knowledge base was deleted: nothing indexed, nothing re-created', async () => {
    const { service, published, failed, created, ingested, released } = setup(async () => ({}), { deletedAt: Date.now() + 1_000 });
    await expect(service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', contentRef: 'local:uploads/x', version: '2' }))).resolves.toBeUndefined();
    expect(ingested).toEqual([]);
    expect(created).toEqual([]);
    expect(failed).toEqual([]);
    expect(published).toEqual([{ type: 'kb.document.failed', tenantId: 'acme', data: { kbId: 'kb', docId: 'd', version: '2', reason: 'knowledge base deleted' } }]);
    expect(released).toEqual(['local:uploads/x']);
  });

  it('does not re-create a deleted knowledge base for a change sent after the deletion either', async () => {
    const { service, created, ingested, published } = setup(async () => ({}), { deletedAt: Date.now() - 60_000 });
    await service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', content: 'x' }));
    expect(created).toEqual([]);
    expect(ingested).toEqual([]);
    expect(published.map((e) => e.data['reason'])).toEqual(['knowledge base deleted']);
  });

  it('drops a change whose knowledge base was deleted while it was being indexed, and forgets the document', async () => {
    const { service, published, failed, removed } = setup(async () => {
      throw new IngestError('knowledge_base_deleted', 'the knowledge base was deleted');
    });
    await expect(service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', content: 'x' }))).resolves.toBeUndefined();
    expect(failed).toEqual([]);
    expect(removed).toEqual([{ tenantId: 'acme', kbId: 'kb', docId: 'd' }]);
    expect(published.map((e) => e.data['reason'])).toEqual(['knowledge base deleted']);
  });

  it('treats a redelivered change whose upload is already released as applied when its version is served', async () => {
    const unavailable = async () => {
      throw new IngestError('content_unavailable', 'the content "local:uploads/x" does not exist');
    };
    const byId = setup(unavailable, { document: { status: 'indexed', activeVersion: '1a2b', changeId: 'e1' } });
    await byId.service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', contentRef: 'local:uploads/x' }), 2);
    expect(byId.failed).toEqual([]);
    expect(byId.published).toEqual([]);
    const byLabel = setup(unavailable, { document: { status: 'indexed', activeVersion: '3', changeId: 'other' } });
    await byLabel.service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', contentRef: 'local:uploads/x', version: '3' }), 2);
    expect(byLabel.failed).toEqual([]);
    // Another change's version is served: this one's content really is missing.
    const other = setup(unavailable, { document: { status: 'indexed', activeVersion: '1a2b', changeId: 'other' } });
    await other.service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', contentRef: 'local:uploads/x' }), 2);
    expect(other.failed).toEqual(['content_unavailable: the content "local:uploads/x" does not exist']);
  });

  it("fails a change naming another tenant's upload (content_forbidden): nothing indexed, the upload left to its owner", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'change-service-'));
    try {
      const contents = new ContentStore(join(dir, 'data'), join(dir, 'objects'));
      const theirs = await contents.saveBytes('globex', 'globex only');
      const { service, failed, ingested } = setup(async () => ({ version: 'v1', chunks: 1, embedded: 1, reused: 0, unchanged: false, durationMs: 1, keywords: [] }), { contents });
      // The envelope's tenant is acme: a publisher on the broker naming globex's upload.
      await service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', contentRef: theirs }));
      expect(ingested).toEqual([]);
      expect(failed).toEqual([expect.stringMatching(/^content_forbidden: /)]);
      expect(Buffer.from(await contents.read(theirs, 'globex')).toString()).toBe('globex only');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
