// The store contract against QdrantStore with an in-memory stand-in for the REST client. The
// stand-in is strict about the request shapes the adapter sends (named vectors, the BM25 inference
// document, filter conditions, UUID ids, wait: true) and implements just enough semantics (filters,
// cosine, a plain BM25) to run the contract. It proves the adapter's logic and requests; the real
// server's behaviour is covered by qdrant.int-spec.ts where a Qdrant is reachable.
import type { QdrantClient } from '@qdrant/js-client-rest';
import { QdrantStore } from './qdrant-store.adapter.ts';
import { knowledgeStoreContract } from './store.contract.ts';

type Json = Record<string, unknown>;
interface Point { id: string; dense: number[]; terms?: Map<string, number>; length: number; payload: Json }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STOP = new Set(['the', 'a', 'an', 'and', 'or', 'of', 'in', 'is', 'with', 'for', 'to', 'its', 'by', 'from', 'on', 'can', 'be']);
const terms = (text: string) => (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((t) => !STOP.has(t));

function fail(message: string): never {
  throw Object.assign(new Error(`Bad Request: ${message}`), { status: 400, data: { status: { error: message } } });
}

class FakeQdrant {
  readonly collections = new Map<string, { size: number; points: Map<string, Point>; indexes: Map<string, unknown> }>();
  readonly calls: string[] = [];

  private get(name: string) {
    return this.collections.get(name) ?? fail(`Collection ${name} doesn't exist`);
  }

  async collectionExists(name: string) {
    return { exists: this.collections.has(name) };
  }

  async createCollection(name: string, body: Json) {
    if (this.collections.has(name)) fail('already exists');
    const dense = (body['vectors'] as Json)['dense'] as { size: number; distance: string };
    expect(dense.distance).toBe('Cosine');
    expect(body['sparse_vectors']).toEqual({ bm25: { modifier: 'idf' } });
    this.collections.set(name, { size: dense.size, points: new Map(), indexes: new Map() });
    return true;
  }

  async getCollection(name: string) {
    const c = this.get(name);
    return { config: { params: { vectors: { dense: { size: c.size, distance: 'Cosine' } }, sparse_vectors: { bm25: { modifier: 'idf' } } } }, payload_schema: Object.fromEntries(c.indexes) };
  }

  async createPayloadIndex(name: string, body: { field_name: string; field_schema: unknown; wait: boolean }) {
    expect(body.wait).toBe(true);
    if (body.field_name === 'tenantId') expect(body.field_schema).toEqual({ type: 'keyword', is_tenant: true });
    else expect(body.field_schema).toBe('keyword');
    this.get(name).indexes.set(body.field_name, { data_type: 'keyword' });
    return { status: 'acknowledged' };
  }

  async deleteCollection(name: string) {
    this.collections.delete(name);
    return true;
  }

  async upsert(name: string, body: { wait: boolean; points: { id: string; vector: Json; payload: Json }[] }) {
    this.calls.push('upsert');
    expect(body.wait).toBe(true);
    const c = this.get(name);
    for (const point of body.points) {
      if (!UUID.test(point.id)) fail(`bad point id ${point.id}`);
      const { dense, bm25, ...rest } = point.vector as { dense?: number[]; bm25?: { text: string; model: string } };
      if (Object.keys(rest).length) fail(`unknown vector names ${Object.keys(rest).join()}`);
      if (!Array.isArray(dense) || dense.length !== c.size) fail('dense vector missing or of wrong size');
      const norm = Math.hypot(...dense);
      let bag: Map<string, number> | undefined;
      let length = 0;
      if (bm25) {
        expect(bm25.model).toBe('qdrant/bm25');
        const words = terms(bm25.text);
        length = words.length;
        bag = new Map();
        for (const w of words) bag.set(w, (bag.get(w) ?? 0) + 1);
      }
      for (const [key, value] of Object.entries(point.payload)) if (value === undefined) fail(`payload ${key} is undefined`);
      c.points.set(point.id, { id: point.id, dense: dense.map((v) => v / norm), ...(bag ? { terms: bag } : {}), length, payload: structuredClone(point.payload) });
    }
    return { status: 'completed' };
  }

  async count(name: string, body: { filter: Json; exact: boolean }) {
    expect(body.exact).toBe(true);
    return { count: [...this.get(name).points.values()].filter((p) => matches(body.filter, p.payload)).length };
  }

  async delete(name: string, body: { wait: boolean; filter: Json }) {
    this.calls.push('delete');
    expect(body.wait).toBe(true);
    const c = this.get(name);
    for (const [id, p] of c.points) if (matches(body.filter, p.payload)) c.points.delete(id);
    return { status: 'completed' };
  }

  async scroll(name: string, body: { filter: Json; limit: number; offset?: number; with_payload: string[]; with_vector: string[] }) {
    expect(body.with_vector).toEqual(['dense']);
    const all = [...this.get(name).points.values()].filter((p) => matches(body.filter, p.payload)).sort((a, b) => a.id.localeCompare(b.id));
    const start = body.offset ?? 0;
    const page = all.slice(start, start + body.limit);
    return {
      points: page.map((p) => ({ id: p.id, payload: Object.fromEntries(body.with_payload.map((k) => [k, p.payload[k]])), vector: { dense: p.dense } })),
      next_page_offset: start + body.limit < all.length ? start + body.limit : null,
    };
  }

  async query(name: string, body: Json) {
    this.calls.push(`query:${String(body['using'])}`);
    const c = this.get(name);
    expect(body['with_payload']).toBe(true);
    const candidates = [...c.points.values()].filter((p) => matches(body['filter'] as Json, p.payload));
    let scored: { p: Point; score: number }[];
    if (body['using'] === 'dense') {
      const q = body['query'] as number[];
      const norm = Math.hypot(...q);
      scored = candidates.map((p) => ({ p, score: p.dense.reduce((sum, v, i) => sum + (v * q[i]!) / norm, 0) }));
      const threshold = body['score_threshold'] as number | undefined;
      if (threshold !== undefined) scored = scored.filter((s) => s.score >= threshold);
    } else if (body['using'] === 'bm25') {
      const doc = body['query'] as { text: string; model: string };
      expect(doc.model).toBe('qdrant/bm25');
      const all = [...c.points.values()].filter((p) => p.terms);
      const avg = all.reduce((s, p) => s + p.length, 0) / Math.max(1, all.length);
      const idf = (t: string) => {
        const n = all.filter((p) => p.terms!.has(t)).length;
        return Math.log(1 + (all.length - n + 0.5) / (n + 0.5));
      };
      scored = candidates
        .filter((p) => p.terms)
        .map((p) => ({ p, score: [...new Set(terms(doc.text))].reduce((s, t) => { const tf = p.terms!.get(t) ?? 0; return s + (tf ? (idf(t) * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * p.length) / avg)) : 0); }, 0) }))
        .filter((s) => s.score > 0);
    } else fail(`unknown vector ${String(body['using'])}`);
    scored.sort((a, b) => b.score - a.score);
    return { points: scored.slice(0, body['limit'] as number).map(({ p, score }) => ({ id: p.id, version: 1, score, payload: structuredClone(p.payload) })) };
  }

  async queryBatch(name: string, body: { searches: Json[] }) {
    return Promise.all(body.searches.map((search) => this.query(name, search)));
  }
}

function matches(filter: Json | undefined, payload: Json): boolean {
  if (!filter) return true;
  for (const key of Object.keys(filter)) if (!['must', 'must_not', 'should'].includes(key)) fail(`unknown filter clause ${key}`);
  const test = (condition: Json): boolean => {
    if ('must' in condition || 'should' in condition || 'must_not' in condition) return matches(condition, payload);
    const { key, match } = condition as { key: string; match: { value?: string; any?: string[] } };
    if (typeof key !== 'string' || !match) fail(`bad condition ${JSON.stringify(condition)}`);
    const value = payload[key];
    if ('value' in match) return value === match.value;
    if (Array.isArray(match.any)) return match.any.includes(value as string);
    return fail(`bad match ${JSON.stringify(match)}`);
  };
  const must = (filter['must'] as Json[] | undefined) ?? [];
  const mustNot = (filter['must_not'] as Json[] | undefined) ?? [];
  const should = filter['should'] as Json[] | undefined;
  return must.every(test) && !mustNot.some(test) && (should === undefined || should.some(test));
}

const fake = new FakeQdrant();
let n = 0;
knowledgeStoreContract('Qdrant adapter (in-memory stand-in for the REST client)', {
  create: async () => new QdrantStore({ url: 'http://unused', collection: `c${++n}`, client: fake as unknown as QdrantClient, batchSize: 7 }),
  destroy: async (store) => (store as QdrantStore).dropCollection(),
});

describe('QdrantStore requests', () => {
  it('creates the collection once and refuses one of another dimension', async () => {
    const client = new FakeQdrant() as unknown as QdrantClient;
    await new QdrantStore({ url: 'x', collection: 'k', client }).init(8);
    await new QdrantStore({ url: 'x', collection: 'k', client }).init(8);
    await expect(new QdrantStore({ url: 'x', collection: 'k', client }).init(16)).rejects.toMatchObject({ code: 'dimension_mismatch' });
  });

  it('does not call delete when nothing is in scope', async () => {
    const client = new FakeQdrant();
    const store = new QdrantStore({ url: 'x', collection: 'k', client: client as unknown as QdrantClient });
    await store.init(8);
    expect(await store.deleteDocument({ tenantId: 't', kbId: 'kb', docId: 'd' })).toBe(0);
    expect(client.calls).not.toContain('delete');
  });

  it('sends a hybrid search as one batch of a dense and a bm25 query', async () => {
    const client = new FakeQdrant();
    const store = new QdrantStore({ url: 'x', collection: 'k', client: client as unknown as QdrantClient });
    await store.init(4);
    await store.search({ tenantId: 't', kbIds: ['kb'], mode: 'hybrid', text: 'words', vector: [1, 0, 0, 0], limit: 3 });
    expect(client.calls).toEqual(['query:dense', 'query:bm25']);
  });
});
