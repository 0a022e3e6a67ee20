import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { LanceDbStore } from './lancedb-store.adapter.ts';
import { QdrantStore, pointId } from './qdrant-store.adapter.ts';
import { knowledgeStoreConfigOf, knowledgeStoreEnv } from './store.config.ts';
import { createKnowledgeStore } from './store.factory.ts';

describe('knowledge store configuration', () => {
  it('defaults to the embedded LanceDB store under .runtime/lancedb', () => {
    const env = knowledgeStoreEnv.parse({});
    expect(env).toEqual({ VECTOR_STORE: 'lancedb', LANCEDB_DIR: '.runtime/lancedb', QDRANT_COLLECTION: 'knowledge_chunks' });
    expect(knowledgeStoreConfigOf(env)).toEqual({ provider: 'lancedb', dataDir: '.runtime/lancedb' });
  });

  it('maps the Qdrant variables and requires QDRANT_URL for qdrant', () => {
    const env = knowledgeStoreEnv.parse({ VECTOR_STORE: 'qdrant', QDRANT_URL: 'http://qdrant:6333', QDRANT_API_KEY: 'k', QDRANT_COLLECTION: 'kb_v2' });
    expect(knowledgeStoreConfigOf(env)).toEqual({ provider: 'qdrant', url: 'http://qdrant:6333', apiKey: 'k', collection: 'kb_v2' });
    expect(() => knowledgeStoreConfigOf(knowledgeStoreEnv.parse({ VECTOR_STORE: 'qdrant' }))).toThrow(/QDRANT_URL: required when VECTOR_STORE=qdrant/);
  });

  it('names the bad variable', () => {
    const result = knowledgeStoreEnv.safeParse({ VECTOR_STORE: 'milvus', QDRANT_URL: 'not a url', QDRANT_COLLECTION: 'a/b' });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((issue) => issue.path.join('.')).sort()).toEqual(['QDRANT_COLLECTION', 'QDRANT_URL', 'VECTOR_STORE']);
  });

  it('merges into an app schema by shape', () => {
    const app = z.object({ PORT: z.coerce.number().default(1) }).extend(knowledgeStoreEnv.shape);
    expect(app.parse({ VECTOR_STORE: 'qdrant' })).toMatchObject({ PORT: 1, VECTOR_STORE: 'qdrant' });
  });
});

describe('createKnowledgeStore', () => {
  it('builds the adapter the config names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aip-factory-'));
    try {
      const lance = createKnowledgeStore({ provider: 'lancedb', dataDir: dir });
      expect(lance).toBeInstanceOf(LanceDbStore);
      await lance.init(8);
      expect(await lance.count({ tenantId: 't', kbIds: ['kb'] })).toBe(0);
      await lance.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(createKnowledgeStore({ provider: 'qdrant', url: 'http://127.0.0.1:1' })).toBeInstanceOf(QdrantStore);
    expect(() => createKnowledgeStore({ provider: 'qdrant' })).toThrow(/QDRANT_URL/);
    expect(() => createKnowledgeStore({ provider: 'pinecone' as 'qdrant' })).toThrow(/unknown vector store provider "pinecone"/);
  });

  it('reports an unreachable Qdrant as a backend error', async () => {
    const store = createKnowledgeStore({ provider: 'qdrant', url: 'http://127.0.0.1:1' });
    await expect(store.init(8)).rejects.toMatchObject({ name: 'KnowledgeStoreError', code: 'backend' });
  });
});

describe('Qdrant point ids', () => {
  it('are UUIDs, stable, and different per tenant for the same chunk id', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(pointId('acme', "o'brien/doc/1")).toMatch(uuid);
    expect(pointId('acme', 'x')).toBe(pointId('acme', 'x'));
    expect(pointId('acme', 'x')).not.toBe(pointId('globex', 'x'));
    // The separator keeps (a, bc) and (ab, c) apart.
    expect(pointId('a', 'bc')).not.toBe(pointId('ab', 'c'));
  });
});
