import type { ChunkRecord, KnowledgeStore } from '../store/store.port.ts';
import { IngestError } from './ingest.errors.ts';
import { IngestPipeline, type IngestPipelineOptions } from './ingest.pipeline.ts';
import { CountingEmbedder, MemoryKnowledgeStore } from './testing/memory-knowledge.store.ts';
import { MemoryRegistry } from './testing/memory.registry.ts';

const settings = { chunkSize: 200, chunkOverlap: 0 };
const doc = { tenantId: 'acme', kbId: 'guides', docId: 'beijing' };
const section = (name: string) => `## ${name}\n\n${`${name} is worth a visit in spring and autumn. `.repeat(3).trim()}`;
const guide = (...names: string[]) => names.map(section).join('\n\n');

function setup(options: Omit<Partial<IngestPipelineOptions>, 'store' | 'embeddings' | 'registry' | 'modelId'> = {}) {
  const store = new MemoryKnowledgeStore();
  const embeddings = new CountingEmbedder();
  const registry = new MemoryRegistry();
  const pipeline = new IngestPipeline({ store, embeddings, registry, modelId: 'fake-64', ...options });
  const rowsOf = (version?: string) => [...store.rows.values()].filter((row) => row.docId === doc.docId && (!version || row.version === version));
  return { store, embeddings, registry, pipeline, rowsOf };
}

describe('IngestPipeline', () => {
  it('stores every chunk with its payload and makes the version active', async () => {
    const { pipeline, rowsOf, registry, embeddings } = setup();
    const result = await pipeline.ingest({ ...doc, content: guide('Forbidden City', 'Great Wall', 'Summer Palace'), mediaType: 'text/markdown', version: 'v1', metadata: { source: 'cms' }, settings });
    expect(result).toMatchObject({ version: 'v1', chunks: 3, embedded: 3, reused: 0 });
    const rows = rowsOf().sort((a, b) => a.position - b.position);
    expect(rows.map((r) => r.position)).toEqual([0, 1, 2]);
    expect(rows[1]).toMatchObject({ ...doc, version: 'v1', model: 'fake-64', metadata: { source: 'cms' } });
    expect(rows[1]!.text).toContain('Great Wall');
    expect(rows[1]!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[1]!.vector).toEqual(embeddings.vector(rows[1]!.text));
    expect(await registry.getDocument(doc)).toMatchObject({ status: 'indexed', activeVersion: 'v1', chunks: 3, progress: { done: 3, total: 3 } });
  });

  it('embeds nothing when an unchanged document is ingested again', async () => {
    const { pipeline, embeddings, rowsOf } = setup();
    const request = { ...doc, content: guide('Forbidden City', 'Great Wall'), mediaType: 'text/markdown', settings };
    const first = await pipeline.ingest(request);
    const callsAfterFirst = embeddings.calls;
    const second = await pipeline.ingest(request);
    expect(embeddings.calls).toBe(callsAfterFirst);
    expect(second).toMatchObject({ version: first.version, chunks: 2, embedded: 0, reused: 2, unchanged: true });
    expect(rowsOf()).toHaveLength(2);
  });

  it('rebuilds an unchanged document whose rows the store lost, reusing what is left', async () => {
    const { pipeline, store, embeddings, rowsOf } = setup();
    const request = { ...doc, content: guide('Forbidden City', 'Great Wall'), mediaType: 'text/markdown', settings };
    await pipeline.ingest(request);
    store.rows.delete(rowsOf()[0]!.id);
    embeddings.texts = 0;
    const again = await pipeline.ingest(request);
    expect(again).toMatchObject({ chunks: 2, embedded: 1, reused: 1, unchanged: false });
    expect(embeddings.texts).toBe(1);
    expect(rowsOf()).toHaveLength(2);
  });

  it('re-ingests an unchanged document in full when the chunk settings change', async () => {
    const { pipeline, embeddings, rowsOf } = setup();
    const content = guide('Forbidden City', 'Great Wall', 'Summer Palace');
    await pipeline.ingest({ ...doc, content, mediaType: 'text/markdown', settings });
    const result = await pipeline.ingest({ ...doc, content, mediaType: 'text/markdown', settings: { chunkSize: 1_000, chunkOverlap: 0 } });
    expect(result).toMatchObject({ chunks: 1, embedded: 1, unchanged: false });
    expect(embeddings.calls).toBe(2);
    expect(rowsOf().map((r) => r.version)).toEqual([result.version]);
  });

  it('embeds only the chunks whose text changed, in batches, and de-duplicates repeated chunks', async () => {
    const { pipeline, embeddings } = setup({ embedBatchSize: 2 });
    await pipeline.ingest({ ...doc, content: guide('Forbidden City', 'Great Wall', 'Summer Palace'), mediaType: 'text/markdown', version: 'v1', settings });
    embeddings.calls = 0;
    embeddings.texts = 0;
    const result = await pipeline.ingest({ ...doc, content: guide('Forbidden City', 'Temple of Heaven', 'Great Wall', 'Lama Temple', 'Lama Temple', 'Jingshan Park'), mediaType: 'text/markdown', version: 'v2', settings });
    expect(result).toMatchObject({ chunks: 6, embedded: 4, reused: 2 });
    // Three new distinct texts (Temple of Heaven, Lama Temple, Jingshan Park) in batches of two.
    expect(embeddings.texts).toBe(3);
    expect(embeddings.calls).toBe(2);
  });

  it('switches to the new version only after it is stored, then deletes the old version', async () => {
    const { pipeline, registry, store, rowsOf } = setup();
    await pipeline.ingest({ ...doc, content: guide('Forbidden City', 'Great Wall'), mediaType: 'text/markdown', version: 'v1', settings });
    const events: string[] = [];
    const upsert = store.upsert.bind(store);
    const deleteDocument = store.deleteDocument.bind(store);
    store.upsert = async (rows: readonly ChunkRecord[]) => {
      // While the new version is being written, the old one is what searches are told to serve.
      events.push(`upsert ${rows[0]!.version} (active ${[...registry.active.values()].join()})`);
      return upsert(rows);
    };
    store.deleteDocument = async (d) => {
      events.push(`delete except ${d.keepVersion} (active ${[...registry.active.values()].join()})`);
      return deleteDocument(d);
    };
    await pipeline.ingest({ ...doc, content: guide('Summer Palace'), mediaType: 'text/markdown', version: 'v2', settings });
    // Rows of anything but the served version are cleared first (a failed attempt at v2 may have left some).
    expect(events).toEqual(['delete except v1 (active v1)', 'upsert v2 (active v1)', 'delete except v2 (active v2)']);
    expect(rowsOf('v1')).toHaveLength(0);
    expect(rowsOf('v2')).toHaveLength(1);
  });

  it('keeps serving the old version when the new one cannot be stored, and finishes on retry', async () => {
    const { pipeline, registry, store, rowsOf } = setup();
    await pipeline.ingest({ ...doc, content: guide('Forbidden City'), mediaType: 'text/markdown', version: 'v1', settings });
    const upsert = store.upsert.bind(store);
    store.upsert = async () => {
      throw new Error('store unavailable');
    };
    const request = { ...doc, content: guide('Great Wall'), mediaType: 'text/markdown', version: 'v2', settings };
    await expect(pipeline.ingest(request)).rejects.toThrow('store unavailable');
    expect(registry.active.get('acme|guides|beijing')).toBe('v1');
    expect(rowsOf('v1')).toHaveLength(1);
    store.upsert = upsert;
    await pipeline.ingest(request);
    expect(registry.active.get('acme|guides|beijing')).toBe('v2');
    expect(rowsOf('v1')).toHaveLength(0);
  });

  it('re-using a version label that failed midway serves only the rows of the new attempt', async () => {
    const store = new MemoryKnowledgeStore();
    const registry = new MemoryRegistry();
    const pipeline = new IngestPipeline({ store, embeddings: new CountingEmbedder(), registry, modelId: 'fake-64', upsertBatchSize: 1 });
    await pipeline.ingest({ ...doc, content: guide('Forbidden City'), mediaType: 'text/markdown', version: 'v1', settings });
    const upsert = store.upsert.bind(store);
    let calls = 0;
    store.upsert = async (rows: readonly ChunkRecord[]) => {
      if (++calls === 3) throw new Error('store unavailable');
      return upsert(rows);
    };
    await expect(pipeline.ingest({ ...doc, content: guide('Great Wall', 'Summer Palace', 'Temple of Heaven'), mediaType: 'text/markdown', version: 'v2', settings })).rejects.toThrow('store unavailable');
    store.upsert = upsert;
    const retry = await pipeline.ingest({ ...doc, content: guide('Lama Temple'), mediaType: 'text/markdown', version: 'v2', settings });
    expect(retry).toMatchObject({ version: 'v2', chunks: 1 });
    const served = [...store.rows.values()].filter((row) => row.docId === doc.docId && row.version === registry.active.get('acme|guides|beijing'));
    expect(served.map((row) => row.text)).toEqual([expect.stringContaining('Lama Temple')]);
  });

  it('does not activate into a knowledge base deleted while the document was being indexed, and leaves no rows', async () => {
    const { pipeline, registry, store, rowsOf } = setup();
    const upsert = store.upsert.bind(store);
    store.upsert = async (rows: readonly ChunkRecord[]) => {
      await upsert(rows);
      registry.deletedBases.add('acme|guides');
    };
    const error = await pipeline.ingest({ ...doc, content: guide('Forbidden City'), mediaType: 'text/markdown', version: 'v1', settings }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestError);
    expect((error as IngestError).code).toBe('knowledge_base_deleted');
    expect(registry.active.size).toBe(0);
    expect(rowsOf()).toHaveLength(0);
  });

  it('marks poison input failed with the reason and leaves the served version alone', async () => {
    const { pipeline, registry, embeddings, rowsOf } = setup();
    await pipeline.ingest({ ...doc, content: guide('Forbidden City'), mediaType: 'text/markdown', version: 'v1', settings });
    const error = await pipeline.ingest({ ...doc, content: new Uint8Array([0xff, 0xfe, 0x00, 0xd8]), mediaType: 'application/pdf', version: 'v2', settings }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestError);
    expect(await registry.getDocument(doc)).toMatchObject({ status: 'failed', activeVersion: 'v1', error: expect.stringMatching(/^corrupt_pdf/) });
    expect(rowsOf('v1')).toHaveLength(1);
    expect(embeddings.calls).toBe(1);
  });

  it('fails a document with more chunks than the limit as too_large before embedding or writing anything', async () => {
    const { pipeline, registry, embeddings, rowsOf } = setup({ limits: { maxChunks: 2 } });
    await pipeline.ingest({ ...doc, content: guide('Forbidden City', 'Great Wall'), mediaType: 'text/markdown', version: 'v1', settings });
    const error = await pipeline.ingest({ ...doc, content: guide('Forbidden City', 'Great Wall', 'Summer Palace'), mediaType: 'text/markdown', version: 'v2', settings }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'IngestError', code: 'too_large', message: 'the document makes 3 chunks of at most 200 characters; the limit is 2' });
    expect(await registry.getDocument(doc)).toMatchObject({ status: 'failed', activeVersion: 'v1', version: 'v2', error: expect.stringMatching(/^too_large: /) });
    expect(rowsOf('v2')).toEqual([]);
    expect(embeddings.calls).toBe(1);
  });

  it('prepares documents with the preparer it is given, and still holds a preparer to the chunk limit', async () => {
    const seen: unknown[] = [];
    const { pipeline, registry, rowsOf } = setup({
      limits: { maxChunks: 2, maxPdfPages: 7 },
      prepare: async (input) => {
        seen.push({ mediaType: input.mediaType, limits: input.limits, title: input.title });
        return { keywords: ['wall'], chunks: String(input.content).split('|') };
      },
    });
    expect(await pipeline.ingest({ ...doc, content: 'one|two', mediaType: 'text/plain', title: 'T', settings })).toMatchObject({ chunks: 2, keywords: ['wall'] });
    expect(seen).toEqual([{ mediaType: 'text/plain', limits: { maxChunks: 2, maxPdfPages: 7 }, title: 'T' }]);
    const error = await pipeline.ingest({ ...doc, content: 'one|two|three', mediaType: 'text/plain', settings }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'too_large' });
    expect(await registry.getDocument(doc)).toMatchObject({ status: 'failed', error: expect.stringMatching(/^too_large: /) });
    expect(rowsOf().map((row) => row.text).sort()).toEqual(['one', 'two']);
  });

  it('gives a source that re-sends the active version label with new content a distinct stored version', async () => {
    const { pipeline, rowsOf } = setup();
    await pipeline.ingest({ ...doc, content: guide('Forbidden City', 'Great Wall'), mediaType: 'text/markdown', version: '7', settings });
    const second = await pipeline.ingest({ ...doc, content: guide('Summer Palace'), mediaType: 'text/markdown', version: '7', settings });
    expect(second.version).toMatch(/^7\+[0-9a-f]{8}$/);
    expect(rowsOf().map((r) => r.version)).toEqual([second.version]);
  });

  it('keeps a suffixed version label valid when it is cut to 128 characters (no half surrogate pair)', async () => {
    const { pipeline } = setup();
    const label = '\u{1F600}'.repeat(64);
    await pipeline.ingest({ ...doc, content: guide('Forbidden City'), mediaType: 'text/markdown', version: label, settings });
    const second = await pipeline.ingest({ ...doc, content: guide('Summer Palace'), mediaType: 'text/markdown', version: label, settings });
    expect(second.version.isWellFormed()).toBe(true);
    expect(second.version).toMatch(/^\u{1F600}+\+[0-9a-f]{8}$/u);
    expect(second.version.length).toBeLessThanOrEqual(128);
  });

  it('never reuses vectors across knowledge bases or models', async () => {
    const store = new MemoryKnowledgeStore();
    const registry = new MemoryRegistry();
    const embeddings = new CountingEmbedder();
    const content = guide('Forbidden City');
    await new IngestPipeline({ store, embeddings, registry, modelId: 'm1' }).ingest({ ...doc, content, mediaType: 'text/markdown', settings });
    const other = await new IngestPipeline({ store, embeddings, registry, modelId: 'm1' }).ingest({ ...doc, kbId: 'other', content, mediaType: 'text/markdown', settings });
    const otherModel = await new IngestPipeline({ store, embeddings, registry, modelId: 'm2' }).ingest({ ...doc, docId: 'copy', content, mediaType: 'text/markdown', settings });
    expect(other.embedded).toBe(1);
    expect(otherModel.embedded).toBe(1);
  });

  it('embeds documents ingested at once in shared calls, and stores each with its own vectors', async () => {
    const store = new MemoryKnowledgeStore();
    const registry = new MemoryRegistry();
    const embeddings = new CountingEmbedder();
    const calls: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated = {
      embedDocuments: async (texts: string[]) => {
        calls.push(texts);
        // The first call waits, so the other documents' chunks queue up behind it.
        if (calls.length === 1) await gate;
        return embeddings.embedDocuments(texts);
      },
    };
    const pipeline = new IngestPipeline({ store, embeddings: gated, registry, modelId: 'fake-64', embedBatchSize: 8 });
    const docs = ['beijing', 'xian', 'chengdu', 'guilin'].map((docId, i) => ({ ...doc, docId, content: guide(...['Forbidden City', 'Terracotta Army', 'Panda Base', 'Li River'].slice(i, i + 1), `${docId} food`, `${docId} hotels`) }));
    const running = docs.map((d) => pipeline.ingest({ ...d, mediaType: 'text/markdown', version: 'v1', settings }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    const results = await Promise.all(running);
    expect(results.map((r) => r.embedded)).toEqual([3, 3, 3, 3]);
    // One call for the first document, one shared call for the three that came while it ran.
    expect(calls.map((texts) => texts.length)).toEqual([3, 8, 1]);
    for (const d of docs) {
      const rows = [...store.rows.values()].filter((row) => row.docId === d.docId);
      expect(rows).toHaveLength(3);
      for (const row of rows) expect(row.vector).toEqual(embeddings.vector(row.text));
      expect(await registry.getDocument(d)).toMatchObject({ status: 'indexed', activeVersion: 'v1', progress: { done: 3, total: 3 } });
    }
  });

  it('fails only the document whose text the embedder refuses, when documents share a call', async () => {
    const { store, registry, rowsOf } = setup();
    const embeddings = new CountingEmbedder();
    const calls: number[] = [];
    const picky = {
      embedDocuments: async (texts: string[]) => {
        calls.push(texts.length);
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (texts.some((text) => text.includes('Poison'))) throw new Error('the embedder refused an input');
        return embeddings.embedDocuments(texts);
      },
    };
    const pipeline = new IngestPipeline({ store, embeddings: picky, registry, modelId: 'fake-64', embedBatchSize: 16 });
    const other = { ...doc, docId: 'xian' };
    await pipeline.ingest({ ...doc, content: guide('Forbidden City'), mediaType: 'text/markdown', version: 'v1', settings });
    const blocker = pipeline.ingest({ ...doc, docId: 'chengdu', content: guide('Panda Base'), mediaType: 'text/markdown', settings });
    const [bad, good] = await Promise.allSettled([
      pipeline.ingest({ ...doc, content: guide('Great Wall', 'Poison Ivy'), mediaType: 'text/markdown', version: 'v2', settings }),
      pipeline.ingest({ ...other, content: guide('Terracotta Army', 'Muslim Quarter'), mediaType: 'text/markdown', version: 'v1', settings }),
      blocker,
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { message: 'the embedder refused an input' } });
    expect(good).toMatchObject({ status: 'fulfilled', value: { version: 'v1', chunks: 2, embedded: 2 } });
    // Shared, then each alone: the shared call failed for the poison text only.
    expect(calls.slice(1)).toEqual([1, 4, 2, 2]);
    expect(registry.active.get('acme|guides|beijing')).toBe('v1');
    expect(rowsOf('v1')).toHaveLength(1);
    expect(registry.active.get('acme|guides|xian')).toBe('v1');
  });

  it('reports progress as parts of a document get their vectors, and fails the ingest (old version served) when a progress write fails', async () => {
    const { pipeline, registry, rowsOf } = setup({ embedBatchSize: 1 });
    const seen: number[] = [];
    const progress = registry.progress.bind(registry);
    registry.progress = async (d, done) => {
      seen.push(done);
      return progress(d, done);
    };
    await pipeline.ingest({ ...doc, content: guide('Forbidden City', 'Great Wall', 'Summer Palace'), mediaType: 'text/markdown', version: 'v1', settings });
    expect(seen).toEqual([1, 2, 3]);
    registry.progress = async () => {
      throw new Error('registry unavailable');
    };
    await expect(pipeline.ingest({ ...doc, content: guide('Temple of Heaven', 'Lama Temple'), mediaType: 'text/markdown', version: 'v2', settings })).rejects.toThrow('registry unavailable');
    expect(registry.active.get('acme|guides|beijing')).toBe('v1');
    expect(rowsOf('v2')).toEqual([]);
  });

  it('deletes a document: not served from the first step, no chunk left at the end', async () => {
    const { pipeline, registry, store, rowsOf } = setup();
    await pipeline.ingest({ ...doc, content: guide('Forbidden City', 'Great Wall'), mediaType: 'text/markdown', settings });
    const deleteDocument = store.deleteDocument.bind(store);
    let servedDuringDelete: string | undefined = 'unset';
    (store as KnowledgeStore).deleteDocument = async (d) => {
      servedDuringDelete = registry.active.get('acme|guides|beijing');
      return deleteDocument(d);
    };
    expect(await pipeline.remove(doc)).toBe(2);
    expect(servedDuringDelete).toBeUndefined();
    expect(rowsOf()).toHaveLength(0);
    expect(await registry.getDocument(doc)).toBeUndefined();
  });
});
