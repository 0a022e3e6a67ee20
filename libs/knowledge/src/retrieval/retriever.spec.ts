import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestPipeline } from '../ingest/ingest.pipeline.ts';
import { bagOfWordsVector } from '../store/bag-of-words.embedding.ts';
import { LanceDbStore } from '../store/lancedb-store.adapter.ts';
import { CountingEmbedder, MemoryKnowledgeStore } from '../ingest/testing/memory-knowledge.store.ts';
import { MemoryRegistry } from '../ingest/testing/memory.registry.ts';
import { Retriever } from './retriever.ts';

const settings = { chunkSize: 400, chunkOverlap: 0 };

async function setup() {
  const store = new MemoryKnowledgeStore();
  const embeddings = new CountingEmbedder();
  const registry = new MemoryRegistry();
  const pipeline = new IngestPipeline({ store, embeddings, registry, modelId: 'fake' });
  const retriever = new Retriever({ store, embeddings, versions: registry });
  const add = (tenantId: string, kbId: string, docId: string, content: string, extra: { version?: string; title?: string } = {}) =>
    pipeline.ingest({ tenantId, kbId, docId, content, mediaType: 'text/plain', settings, ...extra });
  return { store, embeddings, registry, pipeline, retriever, add };
}

describe('Retriever', () => {
  it('returns the best matching passages with their citation', async () => {
    const { retriever, add } = await setup();
    await add('acme', 'travel', 'hotels', 'Hotels near the Forbidden City fill up in October.', { title: 'Hotels' });
    await add('acme', 'travel', 'food', 'Peking duck is served with pancakes and sweet bean sauce.');
    const passages = await retriever.search({ tenantId: 'acme', kbIds: ['travel'], query: 'where to eat peking duck' });
    expect(passages[0]).toMatchObject({ text: expect.stringContaining('Peking duck'), source: { kbId: 'travel', docId: 'food', position: 0, version: expect.any(String) } });
    expect(passages[0]!.score).toBeGreaterThan(0);
    const hotel = await retriever.search({ tenantId: 'acme', kbIds: ['travel'], query: 'hotels forbidden city', mode: 'fulltext', limit: 1 });
    expect(hotel).toEqual([{ text: expect.stringContaining('Hotels near'), score: expect.any(Number), source: expect.objectContaining({ docId: 'hotels', title: 'Hotels' }) }]);
  });

  it('never returns another tenant\'s passages, nor passages of knowledge bases not asked for', async () => {
    const { retriever, add } = await setup();
    await add('acme', 'travel', 'secret', 'The acme discount code is SPRING24.');
    await add('globex', 'travel', 'public', 'Globex travel tips for spring.');
    await add('globex', 'internal', 'notes', 'Globex discount code spring.');
    for (const mode of ['dense', 'fulltext', 'hybrid'] as const) {
      const passages = await retriever.search({ tenantId: 'globex', kbIds: ['travel'], query: 'discount code spring', mode, limit: 10 });
      expect(passages.map((p) => p.source.docId)).toEqual(['public']);
    }
  });

  it('serves only the active version of a document', async () => {
    const { retriever, add, store } = await setup();
    await add('acme', 'kb', 'prices', 'The ticket costs 40 yuan.', { version: 'v1' });
    await add('acme', 'kb', 'prices', 'The ticket costs 60 yuan since May.', { version: 'v2' });
    // A leftover row of an old version (e.g. a crash before the cleanup) is not served.
    const [row] = [...store.rows.values()];
    await store.upsert([{ ...row!, id: 'leftover', version: 'v1', text: 'The ticket costs 40 yuan.' }]);
    const passages = await retriever.search({ tenantId: 'acme', kbIds: ['kb'], query: 'ticket costs yuan', limit: 10 });
    expect(passages.map((p) => [p.source.version, p.text])).toEqual([['v2', 'The ticket costs 60 yuan since May.']]);
  });

  it('keeps the versions of a docId that exists in two searched knowledge bases apart', async () => {
    const { retriever, add } = await setup();
    await add('acme', 'a', 'faq', 'Opening hours are nine to five.', { version: 'a1' });
    await add('acme', 'b', 'faq', 'Opening hours are ten to six.', { version: 'b1' });
    const passages = await retriever.search({ tenantId: 'acme', kbIds: ['a', 'b'], query: 'opening hours', limit: 10 });
    expect(passages.map((p) => `${p.source.kbId}/${p.source.version}`).sort()).toEqual(['a/a1', 'b/b1']);
  });

  it('does not embed anything when there is nothing to search, and finds nothing for a deleted document', async () => {
    const { retriever, add, embeddings, pipeline } = await setup();
    expect(await retriever.search({ tenantId: 'acme', kbIds: ['empty'], query: 'anything' })).toEqual([]);
    expect(await retriever.search({ tenantId: 'acme', kbIds: [], query: 'anything' })).toEqual([]);
    expect(await retriever.search({ tenantId: 'acme', kbIds: ['kb'], query: '   ' })).toEqual([]);
    expect(embeddings.queries).toBe(0);
    await add('acme', 'kb', 'gone', 'This document will be deleted.');
    await pipeline.remove({ tenantId: 'acme', kbId: 'kb', docId: 'gone' });
    for (const mode of ['dense', 'fulltext', 'hybrid'] as const) expect(await retriever.search({ tenantId: 'acme', kbIds: ['kb'], query: 'document deleted', mode })).toEqual([]);
  });

  it('does not embed the query for full-text search, and clamps the limit', async () => {
    const { retriever, add, embeddings } = await setup();
    for (let i = 0; i < 60; i++) await add('acme', 'kb', `d${i}`, `lantern festival note number ${i}`);
    const passages = await retriever.search({ tenantId: 'acme', kbIds: ['kb'], query: 'lantern', mode: 'fulltext', limit: 500 });
    expect(passages).toHaveLength(50);
    expect(embeddings.queries).toBe(0);
  });

  // Regression (issue 14): a document upserted with version "\u0000" was indexed, and from then on
  // every query of its tenant failed in LanceDB's scope filter (500 on every search).
  it('never lets one bad version label break the searches of its tenant (real LanceDB)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retriever-lancedb-'));
    const store = new LanceDbStore({ dataDir: dir });
    try {
      await store.init(64);
      const embeddings = { embedQuery: async (text: string) => bagOfWordsVector(text, 64), embedDocuments: async (texts: string[]) => texts.map((text) => bagOfWordsVector(text, 64)) };
      const registry = new MemoryRegistry();
      const pipeline = new IngestPipeline({ store, embeddings, registry, modelId: 'bow-64' });
      const retriever = new Retriever({ store, embeddings, versions: registry });
      await pipeline.ingest({ tenantId: 'acme', kbId: 'kb', docId: 'hours', content: 'The museum opens at nine.', mediaType: 'text/plain', settings, version: 'v1' });
      // The store refuses the label: nothing of it is stored or activated.
      await expect(pipeline.ingest({ tenantId: 'acme', kbId: 'kb', docId: 'bad', content: 'The museum shop opens at ten.', mediaType: 'text/plain', settings, version: '\u0000' })).rejects.toMatchObject({ code: 'invalid_chunk' });
      expect(await store.count({ tenantId: 'acme', kbIds: ['kb'], docId: 'bad' })).toBe(0);
      // A label registered before the rule existed is skipped, not sent to the store.
      registry.active.set('acme|kb|legacy', '\u0000');
      for (const mode of ['dense', 'fulltext', 'hybrid'] as const) {
        // So is a knowledge base id no base can have (e.g. from a chat request's knowledge_bases).
        const passages = await retriever.search({ tenantId: 'acme', kbIds: ['kb', 'k\u0000b', 'half \uD800'], query: 'when does the museum open', mode });
        expect(passages.map((p) => p.source.docId)).toEqual(['hours']);
      }
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
