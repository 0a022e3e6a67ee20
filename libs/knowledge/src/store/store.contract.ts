// The contract every KnowledgeStore adapter passes. A spec calls `knowledgeStoreContract` with a
// factory; the suite shares one store (one table/collection, as in production) and gives every
// test its own tenant, so tests never see each other's rows — which is also what isolation means.
import { randomUUID } from 'node:crypto';
import { bagOfWordsVector } from './bag-of-words.embedding.ts';
import { KnowledgeStoreError } from './store.errors.ts';
import type { ChunkRecord, KnowledgeStore, SearchQuery } from './store.port.ts';

export interface ContractTarget {
  /** A store on a fresh or shared table/collection; `init` is called by the suite. */
  create(): Promise<KnowledgeStore>;
  /** Removes what `create` made (temp dirs, collections). */
  destroy?(store: KnowledgeStore): Promise<void>;
}

const DIM = 384;
// Generous: real servers and a busy CI machine (index builds, merges) are slower than a laptop.
const CASE_TIMEOUT_MS = 30_000;
const SETUP_TIMEOUT_MS = 120_000;
const contractCase = (name: string, fn: () => Promise<void>) => it(name, fn, CASE_TIMEOUT_MS);
const MODEL = 'test-bow-384';
const vec = (text: string) => bagOfWordsVector(text, DIM);

/** Builds a chunk; the vector is the text's bag of words unless given. */
export function chunk(fields: Partial<ChunkRecord> & Pick<ChunkRecord, 'tenantId' | 'kbId' | 'docId' | 'text'>): ChunkRecord {
  const version = fields.version ?? 'v1';
  const position = fields.position ?? 0;
  return {
    id: fields.id ?? `${fields.tenantId}/${fields.kbId}/${fields.docId}/${version}/${position}`,
    version,
    position,
    hash: fields.hash ?? `h:${fields.text}`,
    model: fields.model ?? MODEL,
    vector: fields.vector ?? vec(fields.text),
    ...fields,
  };
}

const CORPUS = [
  'The Forbidden City in Beijing is a palace complex with many courtyards',
  'Hotels near Tiananmen square offer rooms with a view of the palace',
  'Shanghai is known for the Bund and its skyline along the river',
  'Refund policy: purchases can be returned within thirty days with a receipt',
  'The warranty covers manufacturing defects of the espresso machine for two years',
];

export function knowledgeStoreContract(name: string, target: ContractTarget): void {
  describe(`KnowledgeStore contract: ${name}`, () => {
    let store: KnowledgeStore;
    beforeAll(async () => {
      store = await target.create();
      await store.init(DIM);
    }, SETUP_TIMEOUT_MS);
    afterAll(async () => {
      await store?.close();
      if (store) await target.destroy?.(store);
    });

    const tenant = () => `t-${randomUUID()}`;
    const ids = (hits: { chunk: { id: string } }[]) => hits.map((h) => h.chunk.id);
    const docs = (hits: { chunk: { docId: string } }[]) => hits.map((h) => h.chunk.docId);
    const search = (q: Partial<SearchQuery> & Pick<SearchQuery, 'tenantId' | 'kbIds' | 'mode'>) =>
      store.search({ limit: 10, ...(q.mode !== 'fulltext' && q.text ? { vector: vec(q.text) } : {}), ...q });
    async function seed(tenantId: string, kbId = 'kb') {
      const chunks = CORPUS.map((text, i) => chunk({ tenantId, kbId, docId: `doc-${i}`, text }));
      await store.upsert(chunks);
      return chunks;
    }

    contractCase('finds a chunk by dense, full-text and hybrid search as soon as upsert resolves', async () => {
      const t = tenant();
      await seed(t);
      const dense = await search({ tenantId: t, kbIds: ['kb'], mode: 'dense', text: 'espresso machine warranty defects' });
      expect(docs(dense)[0]).toBe('doc-4');
      expect(dense[0]!.score).toBeGreaterThan(0.5);
      expect(dense[0]!.score).toBeLessThanOrEqual(1.0001);
      expect(dense.map((h) => h.score)).toEqual([...dense.map((h) => h.score)].sort((a, b) => b - a));

      const fulltext = await search({ tenantId: t, kbIds: ['kb'], mode: 'fulltext', text: 'refund receipt' });
      expect(docs(fulltext)).toEqual(['doc-3']);
      expect(fulltext[0]!.score).toBeGreaterThan(0);

      const hybrid = await search({ tenantId: t, kbIds: ['kb'], mode: 'hybrid', text: 'palace hotels' });
      expect(docs(hybrid)[0]).toBe('doc-1'); // both words: top of both lists
      expect(hybrid[0]!.ranks).toEqual({ dense: 1, fulltext: 1 });
      expect(hybrid[0]!.score).toBeCloseTo(2 / 61, 10);
      expect(docs(hybrid)).toContain('doc-0'); // 'palace' only
    });

    contractCase('returns the stored chunk fields (without the vector), title and metadata included', async () => {
      const t = tenant();
      const stored = chunk({ tenantId: t, kbId: 'kb', docId: 'd', text: 'metadata round trip check', title: 'Guide', metadata: { lang: 'en', source: 'upload' }, position: 7 });
      await store.upsert([stored]);
      const [hit] = await search({ tenantId: t, kbIds: ['kb'], mode: 'fulltext', text: 'metadata' });
      const { vector: _vector, ...withoutVector } = stored;
      expect(hit!.chunk).toEqual(withoutVector);
      const [plain] = await (async () => {
        await store.upsert([chunk({ tenantId: t, kbId: 'kb', docId: 'p', text: 'no extras here' })]);
        return search({ tenantId: t, kbIds: ['kb'], mode: 'fulltext', text: 'extras' });
      })();
      expect(plain!.chunk.title).toBeUndefined();
      expect(plain!.chunk.metadata).toBeUndefined();
    });

    contractCase('never shows one tenant the rows of another, even with the same kb, doc and chunk ids', async () => {
      const [a, b] = [tenant(), tenant()];
      await store.upsert([chunk({ tenantId: a, kbId: 'shared', docId: 'd', id: 'same-id', text: 'alpha secret roadmap', hash: 'h1' })]);
      await store.upsert([chunk({ tenantId: b, kbId: 'shared', docId: 'd', id: 'same-id', text: 'bravo secret roadmap', hash: 'h1' })]);
      for (const mode of ['dense', 'fulltext', 'hybrid'] as const) {
        const hitsA = await search({ tenantId: a, kbIds: ['shared'], mode, text: 'secret roadmap bravo' });
        expect(hitsA.map((h) => [h.chunk.tenantId, h.chunk.text])).toEqual([[a, 'alpha secret roadmap']]);
      }
      expect(await store.count({ tenantId: a, kbIds: ['shared'] })).toBe(1);
      expectVectorClose((await store.vectorsByHash({ tenantId: a, kbId: 'shared', model: MODEL }, ['h1'])).get('h1')!, vec('alpha secret roadmap'));
      // B's delete of the same kb leaves A's row alone.
      expect(await store.deleteKnowledgeBase({ tenantId: b, kbId: 'shared' })).toBe(1);
      expect(await store.count({ tenantId: a, kbIds: ['shared'] })).toBe(1);
      expect(await store.deleteDocument({ tenantId: b, kbId: 'shared', docId: 'd' })).toBe(0);
      expect(await store.count({ tenantId: a, kbIds: ['shared'], docId: 'd' })).toBe(1);
    });

    contractCase('searches only the knowledge bases asked for; an empty list finds nothing', async () => {
      const t = tenant();
      await store.upsert([chunk({ tenantId: t, kbId: 'kb1', docId: 'd1', text: 'lighthouse keeper manual' }), chunk({ tenantId: t, kbId: 'kb2', docId: 'd2', text: 'lighthouse lamp maintenance' })]);
      expect(docs(await search({ tenantId: t, kbIds: ['kb1'], mode: 'fulltext', text: 'lighthouse' }))).toEqual(['d1']);
      expect(docs(await search({ tenantId: t, kbIds: ['kb2'], mode: 'dense', text: 'lighthouse' }))).toEqual(['d2']);
      expect(docs(await search({ tenantId: t, kbIds: ['kb1', 'kb2'], mode: 'hybrid', text: 'lighthouse' })).sort()).toEqual(['d1', 'd2']);
      for (const mode of ['dense', 'fulltext', 'hybrid'] as const) expect(await search({ tenantId: t, kbIds: [], mode, text: 'lighthouse' })).toEqual([]);
      expect(await store.count({ tenantId: t, kbIds: [] })).toBe(0);
      expect(await store.count({ tenantId: t, kbIds: ['kb1', 'kb2'] })).toBe(2);
      expect(await search({ tenantId: t, kbIds: ['kb-none'], mode: 'hybrid', text: 'lighthouse' })).toEqual([]);
    });

    contractCase('serves only the given document versions when versions are given', async () => {
      const t = tenant();
      await store.upsert([
        chunk({ tenantId: t, kbId: 'kb', docId: 'manual', version: 'v1', text: 'reset the router by holding the button' }),
        chunk({ tenantId: t, kbId: 'kb', docId: 'manual', version: 'v2', text: 'reset the router from the settings page' }),
        chunk({ tenantId: t, kbId: 'kb', docId: 'faq', version: 'v7', text: 'router lights explained' }),
      ]);
      const current = new Map([['manual', 'v2'], ['faq', 'v7']]);
      for (const mode of ['dense', 'fulltext', 'hybrid'] as const) {
        const hits = await search({ tenantId: t, kbIds: ['kb'], mode, text: 'router', versions: current });
        expect(hits.map((h) => `${h.chunk.docId}@${h.chunk.version}`).sort()).toEqual(['faq@v7', 'manual@v2']);
      }
      const onlyOld = await search({ tenantId: t, kbIds: ['kb'], mode: 'fulltext', text: 'router', versions: new Map([['manual', 'v1']]) });
      expect(onlyOld.map((h) => `${h.chunk.docId}@${h.chunk.version}`)).toEqual(['manual@v1']);
      expect(await search({ tenantId: t, kbIds: ['kb'], mode: 'hybrid', text: 'router', versions: new Map() })).toEqual([]);
    });

    contractCase('deletes the superseded versions of a document and keeps the new one', async () => {
      const t = tenant();
      await store.upsert([
        ...[0, 1].map((position) => chunk({ tenantId: t, kbId: 'kb', docId: 'doc', version: 'old', position, text: `obsolete pricing table part ${position}` })),
        chunk({ tenantId: t, kbId: 'kb', docId: 'doc', version: 'new', text: 'current pricing table' }),
        chunk({ tenantId: t, kbId: 'kb', docId: 'other', text: 'pricing of another product' }),
      ]);
      expect(await store.deleteDocument({ tenantId: t, kbId: 'kb', docId: 'doc', keepVersion: 'new' })).toBe(2);
      for (const mode of ['dense', 'fulltext', 'hybrid'] as const) {
        const hits = await search({ tenantId: t, kbIds: ['kb'], mode, text: 'obsolete pricing table' });
        expect(hits.map((h) => h.chunk.version)).not.toContain('old');
        expect(docs(hits).sort()).toEqual(['doc', 'other']);
      }
      expect(await store.deleteDocument({ tenantId: t, kbId: 'kb', docId: 'doc' })).toBe(1);
      expect(await store.count({ tenantId: t, kbIds: ['kb'], docId: 'doc' })).toBe(0);
      expect(docs(await search({ tenantId: t, kbIds: ['kb'], mode: 'fulltext', text: 'pricing' }))).toEqual(['other']);
      expect(await store.deleteDocument({ tenantId: t, kbId: 'kb', docId: 'doc' })).toBe(0);
    });

    contractCase('deletes a whole knowledge base and nothing else', async () => {
      const t = tenant();
      await seed(t, 'gone');
      await seed(t, 'kept');
      expect(await store.deleteKnowledgeBase({ tenantId: t, kbId: 'gone' })).toBe(CORPUS.length);
      expect(await store.count({ tenantId: t, kbIds: ['gone'] })).toBe(0);
      for (const mode of ['dense', 'fulltext', 'hybrid'] as const) expect(await search({ tenantId: t, kbIds: ['gone'], mode, text: 'palace Beijing' })).toEqual([]);
      expect(await store.count({ tenantId: t, kbIds: ['kept'] })).toBe(CORPUS.length);
      expect(await store.deleteKnowledgeBase({ tenantId: t, kbId: 'gone' })).toBe(0);
    });

    contractCase('returns stored vectors by content hash, per knowledge base and embedding model', async () => {
      const t = tenant();
      await store.upsert([
        chunk({ tenantId: t, kbId: 'kb', docId: 'd', text: 'chunk one', hash: 'h-one' }),
        chunk({ tenantId: t, kbId: 'kb', docId: 'd', position: 1, text: 'chunk two', hash: 'h-two', model: 'other-model' }),
        chunk({ tenantId: t, kbId: 'kb2', docId: 'd', text: 'chunk three', hash: 'h-three' }),
        // The same content in two documents: one vector comes back.
        chunk({ tenantId: t, kbId: 'kb', docId: 'copy', text: 'chunk one', hash: 'h-one' }),
      ]);
      const found = await store.vectorsByHash({ tenantId: t, kbId: 'kb', model: MODEL }, ['h-one', 'h-two', 'h-three', 'h-missing']);
      expect([...found.keys()]).toEqual(['h-one']);
      expectVectorClose(found.get('h-one')!, vec('chunk one'));
      expect([...(await store.vectorsByHash({ tenantId: t, kbId: 'kb', model: 'other-model' }, ['h-one', 'h-two'])).keys()]).toEqual(['h-two']);
      expect((await store.vectorsByHash({ tenantId: t, kbId: 'kb', model: MODEL }, [])).size).toBe(0);
    });

    contractCase('drops hits below minScore (cosine for dense, fused score for hybrid)', async () => {
      const t = tenant();
      await seed(t);
      const all = await search({ tenantId: t, kbIds: ['kb'], mode: 'dense', text: 'palace in Beijing' });
      expect(all.length).toBeGreaterThan(1);
      const threshold = (all[0]!.score + all[1]!.score) / 2;
      const strict = await search({ tenantId: t, kbIds: ['kb'], mode: 'dense', text: 'palace in Beijing', minScore: threshold });
      expect(ids(strict)).toEqual([all[0]!.chunk.id]);
      expect(await search({ tenantId: t, kbIds: ['kb'], mode: 'dense', text: 'palace in Beijing', minScore: 1.01 })).toEqual([]);
      const hybrid = await search({ tenantId: t, kbIds: ['kb'], mode: 'hybrid', text: 'palace hotels', minScore: 1.5 / 61 });
      // Only a chunk in both lists near the top can reach 1.5/61.
      expect(hybrid.length).toBeGreaterThan(0);
      for (const hit of hybrid) expect(hit.ranks?.dense && hit.ranks.fulltext).toBeTruthy();
    });

    contractCase('returns at most `limit` hits, best first', async () => {
      const t = tenant();
      await store.upsert(Array.from({ length: 12 }, (_, i) => chunk({ tenantId: t, kbId: 'kb', docId: `d${i}`, text: `common word ${'filler '.repeat(i)}` })));
      for (const mode of ['dense', 'fulltext', 'hybrid'] as const) {
        const hits = await search({ tenantId: t, kbIds: ['kb'], mode, text: 'common word', limit: 3 });
        expect(hits).toHaveLength(3);
        expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));
      }
      // Shorter text, same matching words: the first document wins dense and full text.
      expect(docs(await search({ tenantId: t, kbIds: ['kb'], mode: 'hybrid', text: 'common word', limit: 1 }))).toEqual(['d0']);
    });

    contractCase('handles ids with quotes, backslashes, SQL and unicode as plain values', async () => {
      const t = `t-${randomUUID()}-O'Brien\\"x`;
      const kb = `kb' OR '1'='1`;
      const doc = `doc"; DROP TABLE chunks; --\\'`;
      const id = `id'\\n%_*:中文`;
      await store.upsert([chunk({ tenantId: t, kbId: kb, docId: doc, id, version: `v'1`, text: 'quoted identifiers survive', hash: `h'1\\` })]);
      await store.upsert([chunk({ tenantId: t, kbId: 'kb-plain', docId: 'x', text: 'quoted identifiers elsewhere' })]);
      for (const mode of ['dense', 'fulltext', 'hybrid'] as const) {
        expect(ids(await search({ tenantId: t, kbIds: [kb], mode, text: 'quoted identifiers', versions: new Map([[doc, `v'1`]]) }))).toEqual([id]);
      }
      // The injection-shaped kb id does not widen the scope to the tenant's other kb.
      expect(await store.count({ tenantId: t, kbIds: [kb] })).toBe(1);
      expect(await store.count({ tenantId: t, kbIds: ["x' OR '1'='1"] })).toBe(0);
      expect([...(await store.vectorsByHash({ tenantId: t, kbId: kb, model: MODEL }, [`h'1\\`])).keys()]).toEqual([`h'1\\`]);
      expect(await store.deleteDocument({ tenantId: t, kbId: kb, docId: doc, keepVersion: `v'2` })).toBe(1);
      expect(await store.count({ tenantId: t, kbIds: [kb, 'kb-plain'] })).toBe(1);
    });

    contractCase('treats search text as words, not query syntax', async () => {
      const t = tenant();
      await seed(t);
      const hits = await search({ tenantId: t, kbIds: ['kb'], mode: 'fulltext', text: 'espresso AND ("warranty" OR title:x) -machine*' });
      expect(docs(hits)[0]).toBe('doc-4');
    });

    contractCase('replaces a chunk when the same id is upserted again', async () => {
      const t = tenant();
      await store.upsert([chunk({ tenantId: t, kbId: 'kb', docId: 'd', id: 'c1', text: 'original tulip text' })]);
      await store.upsert([chunk({ tenantId: t, kbId: 'kb', docId: 'd', id: 'c1', text: 'replacement orchid text' })]);
      expect(await store.count({ tenantId: t, kbIds: ['kb'] })).toBe(1);
      expect(await search({ tenantId: t, kbIds: ['kb'], mode: 'fulltext', text: 'tulip' })).toEqual([]);
      const [hit] = await search({ tenantId: t, kbIds: ['kb'], mode: 'dense', text: 'replacement orchid text' });
      expect(hit!.chunk.text).toBe('replacement orchid text');
      expect(hit!.score).toBeCloseTo(1, 3);
      // Twice in one batch: the last one wins.
      await store.upsert([chunk({ tenantId: t, kbId: 'kb', docId: 'd', id: 'c1', text: 'first in batch' }), chunk({ tenantId: t, kbId: 'kb', docId: 'd', id: 'c1', text: 'last in batch' })]);
      expect((await search({ tenantId: t, kbIds: ['kb'], mode: 'fulltext', text: 'batch' })).map((h) => h.chunk.text)).toEqual(['last in batch']);
    });

    contractCase('loses no rows when several documents are upserted at once', async () => {
      const t = tenant();
      const batches = Array.from({ length: 8 }, (_, d) => Array.from({ length: 25 }, (_, p) => chunk({ tenantId: t, kbId: 'kb', docId: `doc-${d}`, position: p, text: `document ${d} paragraph ${p} zebra` })));
      await Promise.all(batches.map((batch) => store.upsert(batch)));
      expect(await store.count({ tenantId: t, kbIds: ['kb'] })).toBe(200);
      for (let d = 0; d < 8; d++) expect(await store.count({ tenantId: t, kbIds: ['kb'], docId: `doc-${d}` })).toBe(25);
      await Promise.all([store.deleteDocument({ tenantId: t, kbId: 'kb', docId: 'doc-0' }), store.upsert([chunk({ tenantId: t, kbId: 'kb', docId: 'doc-9', text: 'late zebra' })])]);
      expect(await store.count({ tenantId: t, kbIds: ['kb'] })).toBe(176);
    });

    contractCase('refuses bad input with a structured error and writes nothing', async () => {
      const t = tenant();
      const good = chunk({ tenantId: t, kbId: 'kb', docId: 'd', text: 'fine' });
      await expect(store.upsert([good, { ...good, id: 'short', vector: [1, 2, 3] }])).rejects.toMatchObject({ name: 'KnowledgeStoreError', code: 'invalid_chunk' });
      await expect(store.upsert([{ ...good, id: 'zeros', vector: new Array(DIM).fill(0) }])).rejects.toThrow(/all zeros/);
      await expect(store.upsert([{ ...good, tenantId: '' }])).rejects.toThrow(/tenantId/);
      expect(await store.count({ tenantId: t, kbIds: ['kb'] })).toBe(0);
      await expect(store.search({ tenantId: t, kbIds: ['kb'], mode: 'dense', limit: 5 })).rejects.toMatchObject({ code: 'invalid_query' });
      await expect(store.search({ tenantId: t, kbIds: ['kb'], mode: 'fulltext', text: '  ', limit: 5 })).rejects.toThrow(KnowledgeStoreError);
      await expect(store.search({ tenantId: t, kbIds: ['kb'], mode: 'hybrid', text: 'x', vector: vec('x'), limit: 0 })).rejects.toThrow(/limit/);
      await expect(store.search({ tenantId: '', kbIds: ['kb'], mode: 'fulltext', text: 'x', limit: 1 })).rejects.toThrow(/tenantId/);
      await store.upsert([]);
    });

    // Regression (issue 14): a document stored with version "\u0000" made every later search of
    // its tenant fail (LanceDB refuses the NUL in the scope filter). Such rows are refused instead.
    contractCase('refuses, not stores, an id or label it could not filter on later; the tenant stays searchable', async () => {
      const t = tenant();
      const good = chunk({ tenantId: t, kbId: 'kb', docId: 'guides/Annual leave (2025).md', version: 'v1+3f2a', text: 'annual leave policy zebra' });
      await store.upsert([good]);
      const bad: [keyof ChunkRecord, string][] = [['version', '\u0000'], ['version', 'v\n1'], ['docId', 'half \uD800 pair'], ['docId', 'x'.repeat(129)], ['kbId', '\u0007'], ['tenantId', `${t}\u0000`], ['model', 'm\u0000'], ['hash', '\uDC00']];
      for (const [field, value] of bad) {
        await expect(store.upsert([{ ...good, id: `bad-${field}`, [field]: value }])).rejects.toMatchObject({ name: 'KnowledgeStoreError', code: 'invalid_chunk', message: expect.stringContaining(field) });
      }
      await expect(store.upsert([{ ...good, id: 'bad-title', title: 'a\uD800' }])).rejects.toMatchObject({ code: 'invalid_chunk' });
      await expect(store.upsert([{ ...good, id: 'bad-metadata', metadata: { key: '\uDFFF' } }])).rejects.toMatchObject({ code: 'invalid_chunk' });
      expect(await store.count({ tenantId: t, kbIds: ['kb'] })).toBe(1);
      const versions = new Map([[good.docId, good.version]]);
      for (const mode of ['dense', 'fulltext', 'hybrid'] as const) {
        expect(ids(await store.search({ tenantId: t, kbIds: ['kb'], mode, text: 'annual leave', vector: vec('annual leave'), limit: 5, versions }))).toEqual([good.id]);
      }
      // A filter value no row can hold is a bad query, on every read and delete.
      await expect(store.search({ tenantId: t, kbIds: ['kb'], mode: 'fulltext', text: 'leave', limit: 5, versions: new Map([[good.docId, '\u0000']]) })).rejects.toMatchObject({ code: 'invalid_query' });
      await expect(store.count({ tenantId: t, kbIds: ['k\uD800'] })).rejects.toMatchObject({ code: 'invalid_query' });
      await expect(store.deleteDocument({ tenantId: t, kbId: 'kb', docId: good.docId, keepVersion: '\u0000' })).rejects.toMatchObject({ code: 'invalid_query' });
      await expect(store.deleteKnowledgeBase({ tenantId: `${t}\n`, kbId: 'kb' })).rejects.toMatchObject({ code: 'invalid_query' });
      await expect(store.vectorsByHash({ tenantId: t, kbId: '\u0000', model: MODEL }, [good.hash])).rejects.toMatchObject({ code: 'invalid_query' });
      expect(await store.count({ tenantId: t, kbIds: ['kb'] })).toBe(1);
    });
  });
}

function expectVectorClose(actual: readonly number[], expected: readonly number[]): void {
  expect(actual).toHaveLength(expected.length);
  const worst = Math.max(...actual.map((value, i) => Math.abs(value - expected[i]!)));
  expect(worst).toBeLessThan(1e-5);
}
