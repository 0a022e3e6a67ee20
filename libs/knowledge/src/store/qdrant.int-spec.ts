// The store contract against a real Qdrant: QDRANT_URL if set, else a testcontainers Qdrant when a
// container runtime answers, else a visible skip (our CI machines have no Docker engine).
import { randomUUID } from 'node:crypto';
import { QdrantContainer, type StartedQdrantContainer } from '@testcontainers/qdrant';
import { dockerEngine } from '@aip/testing';
import { QdrantStore } from './qdrant-store.adapter.ts';
import { knowledgeStoreContract } from './store.contract.ts';

const QDRANT_IMAGE = process.env['QDRANT_IMAGE'] ?? 'qdrant/qdrant:v1.18.2';

async function qdrantTarget(): Promise<{ url: string; apiKey?: string; source: string } | { skip: string }> {
  const url = process.env['QDRANT_URL'];
  if (url) return { url, ...(process.env['QDRANT_API_KEY'] ? { apiKey: process.env['QDRANT_API_KEY'] } : {}), source: 'QDRANT_URL' };
  const engine = await dockerEngine();
  if (!engine.available) return { skip: `skipped Qdrant: no QDRANT_URL and ${engine.reason}` };
  return { url: '', source: `container ${QDRANT_IMAGE}` };
}

const target = await qdrantTarget();

if ('skip' in target) {
  process.stderr.write(`\n[integration] ${target.skip}\n`);
  describe('KnowledgeStore contract: Qdrant', () => {
    it.skip(target.skip, () => undefined);
  });
} else {
  let container: StartedQdrantContainer | undefined;
  let url = target.url;
  beforeAll(async () => {
    if (!url) {
      container = await new QdrantContainer(QDRANT_IMAGE).start();
      url = `http://${container.getRestHostAddress()}`;
    }
    process.stderr.write(`\n[integration] Qdrant at ${url} (${target.source})\n`);
  }, 180_000);
  afterAll(async () => {
    await container?.stop();
  });

  knowledgeStoreContract(`Qdrant (${target.source})`, {
    // A collection per run: the suite's tenants are unique anyway, and the run cleans up after itself.
    create: async () => new QdrantStore({ url, ...('apiKey' in target && target.apiKey ? { apiKey: target.apiKey } : {}), collection: `it_${randomUUID().replaceAll('-', '')}` }),
    destroy: async (store) => (store as QdrantStore).dropCollection(),
  });

  describe('QdrantStore against a real server', () => {
    it('refuses a collection of another dimension', async () => {
      const collection = `it_${randomUUID().replaceAll('-', '')}`;
      const first = new QdrantStore({ url, collection });
      await first.init(8);
      await expect(new QdrantStore({ url, collection }).init(16)).rejects.toMatchObject({ code: 'dimension_mismatch' });
      await first.dropCollection();
    });
  });
}
