import type { Envelope } from '@aip/contracts';
import { IngestError, type IngestPipeline, type KnowledgeRegistry } from '@aip/knowledge';
import { pino } from 'pino';
import type { KbEvents } from '../common/kb-events.ts';
import type { ContentStore } from '../content/content.store.ts';
import type { KnowledgeIngestEnv } from '../knowledge-ingest.config.ts';
import { ChangeService } from './change.service.ts';

const envelope = (data: Record<string, unknown>) => ({ id: 'e1', type: 'kb.change.upsert', version: 1, source: 't', time: new Date().toISOString(), tenantId: 'acme', data }) as unknown as Envelope<'kb.change.upsert'>;

function setup(ingest: () => Promise<unknown>) {
  const published: { type: string; data: Record<string, unknown>; tenantId: string }[] = [];
  const failed: string[] = [];
  const released: string[] = [];
  const created: unknown[] = [];
  const registry = {
    getKnowledgeBase: async () => undefined,
    createKnowledgeBase: async (record: { chunkSize: number; chunkOverlap: number }) => (created.push(record), { record: { ...record, createdAt: 0 }, created: true }),
    fail: async (_doc: unknown, reason: string) => void failed.push(reason),
  } as unknown as KnowledgeRegistry;
  const pipeline = { ingest, remove: async () => 3 } as unknown as IngestPipeline;
  const contents = { read: async () => new Uint8Array([1]), release: async (ref: string) => void released.push(ref) } as unknown as ContentStore;
  const events = { publish: async (type: string, data: Record<string, unknown>, tenantId: string) => void published.push({ type, data, tenantId }) } as unknown as KbEvents;
  const env = { DEFAULT_CHUNK_SIZE: 500, DEFAULT_CHUNK_OVERLAP: 50 } as KnowledgeIngestEnv;
  const service = new ChangeService(pipeline, registry, contents, events, env, pino({ level: 'silent' }));
  return { service, published, failed, released, created };
}

describe('ChangeService', () => {
  it('publishes indexed with the result and releases the upload', async () => {
    const { service, published, released, created } = setup(async () => ({ version: 'v1', chunks: 4, embedded: 3, reused: 1, unchanged: false, durationMs: 12, keywords: ['beijing'] }));
    await service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', contentRef: 'local:uploads/x' }));
    expect(published).toEqual([{ type: 'kb.document.indexed', tenantId: 'acme', data: { kbId: 'kb', docId: 'd', version: 'v1', chunks: 4, embedded: 3, reused: 1, durationMs: 12, keywords: ['beijing'] } }]);
    expect(released).toEqual(['local:uploads/x']);
    // A knowledge base first named by a change gets the default settings.
    expect(created).toEqual([expect.objectContaining({ tenantId: 'acme', kbId: 'kb', chunkSize: 500, chunkOverlap: 50 })]);
  });

  it('acks poison input: marks it failed, publishes the reason, does not throw', async () => {
    const { service, published, failed, released } = setup(async () => {
      throw new IngestError('bad_encoding', 'not UTF-8');
    });
    await expect(service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', contentRef: 'local:uploads/x', version: '3' }))).resolves.toBeUndefined();
    expect(failed).toEqual(['bad_encoding: not UTF-8']);
    expect(published).toEqual([{ type: 'kb.document.failed', tenantId: 'acme', data: { kbId: 'kb', docId: 'd', version: '3', reason: 'bad_encoding: not UTF-8' } }]);
    expect(released).toEqual(['local:uploads/x']);
  });

  it('throws transient errors for a retry, keeping the content; on the last attempt the document is marked failed', async () => {
    const { service, published, failed, released } = setup(async () => {
      throw new Error('store unavailable');
    });
    await expect(service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', contentRef: 'local:uploads/x' }), 1)).rejects.toThrow('store unavailable');
    expect(failed).toEqual([]);
    expect(released).toEqual([]);
    await expect(service.upsert(envelope({ kbId: 'kb', docId: 'd', mediaType: 'text/plain', contentRef: 'local:uploads/x' }), 16)).rejects.toThrow('store unavailable');
    expect(failed).toEqual(['gave up after 16 attempts: store unavailable']);
    expect(published.map((e) => e.type)).toEqual(['kb.document.failed']);
  });
});
