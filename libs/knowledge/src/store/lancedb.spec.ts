import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bagOfWordsVector } from './bag-of-words.embedding.ts';
import { LanceDbStore } from './lancedb-store.adapter.ts';
import { chunk, knowledgeStoreContract } from './store.contract.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aip-lancedb-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

knowledgeStoreContract('LanceDB (embedded, flat search)', { create: async () => new LanceDbStore({ dataDir: tempDir() }) });

// The same contract once the table has been optimised: rows live in the full-text, scalar and
// vector indexes instead of the unindexed tail, and every filter must still hold there.
knowledgeStoreContract('LanceDB (embedded, indexed)', {
  create: async () => {
    const store = new LanceDbStore({ dataDir: tempDir(), optimizeEveryWrites: 3, vectorIndexMinRows: 300 });
    await store.init(384);
    const filler = Array.from({ length: 400 }, (_, i) => chunk({ tenantId: 'filler', kbId: 'kb', docId: `f${i}`, text: `filler row ${i} palace refund router lighthouse` }));
    await store.upsert(filler);
    expect(await store.optimize()).toEqual({ vectorIndex: true, rows: 400 });
    return store;
  },
});

describe('LanceDbStore on disk', () => {
  const it = (name: string, fn: () => Promise<void>) => globalThis.it(name, fn, 30_000);
  const v = (text: string) => bagOfWordsVector(text, 384);

  it('keeps rows across a reopen and refuses another vector dimension', async () => {
    const dataDir = tempDir();
    const first = new LanceDbStore({ dataDir });
    await first.init(384);
    await first.upsert([chunk({ tenantId: 't', kbId: 'kb', docId: 'd', text: 'persisted row' })]);
    await first.close();
    const again = new LanceDbStore({ dataDir });
    await again.init(384);
    expect(await again.count({ tenantId: 't', kbIds: ['kb'] })).toBe(1);
    await again.close();
    await expect(new LanceDbStore({ dataDir }).init(768)).rejects.toMatchObject({ code: 'dimension_mismatch' });
  });

  it('shows a write by one instance to another instance on the same directory at once', async () => {
    const dataDir = tempDir();
    const writer = new LanceDbStore({ dataDir });
    const reader = new LanceDbStore({ dataDir });
    await writer.init(384);
    await reader.init(384);
    await writer.upsert([chunk({ tenantId: 't', kbId: 'kb', docId: 'd', text: 'fresh news item' })]);
    expect((await reader.search({ tenantId: 't', kbIds: ['kb'], mode: 'fulltext', text: 'news', limit: 5 })).map((h) => h.chunk.docId)).toEqual(['d']);
    expect((await reader.search({ tenantId: 't', kbIds: ['kb'], mode: 'dense', vector: v('fresh news item'), limit: 5 }))[0]!.score).toBeCloseTo(1, 3);
    await writer.deleteDocument({ tenantId: 't', kbId: 'kb', docId: 'd' });
    expect(await reader.search({ tenantId: 't', kbIds: ['kb'], mode: 'fulltext', text: 'news', limit: 5 })).toEqual([]);
    await Promise.all([writer.close(), reader.close()]);
  });

  it('loses no rows when two instances in one process write the same table at once', async () => {
    const dataDir = tempDir();
    const [a, b] = [new LanceDbStore({ dataDir }), new LanceDbStore({ dataDir })];
    await Promise.all([a.init(384), b.init(384)]);
    await Promise.all(
      Array.from({ length: 10 }, (_, d) => (d % 2 ? a : b).upsert(Array.from({ length: 10 }, (_, p) => chunk({ tenantId: 't', kbId: 'kb', docId: `d${d}`, position: p, text: `row ${d} ${p}` })))),
    );
    expect(await a.count({ tenantId: 't', kbIds: ['kb'] })).toBe(100);
    await Promise.all([a.close(), b.close()]);
  });

  /** Counts the table's merge-inserts; `refuse` makes one fail when its rows include that text. */
  function watchMergeInserts(store: LanceDbStore, refuse?: string) {
    const table = (store as unknown as { table: { mergeInsert: (on: string[]) => { whenMatchedUpdateAll(): unknown } } }).table;
    const original = table.mergeInsert.bind(table);
    const batches: string[][] = [];
    table.mergeInsert = (on: string[]) => {
      const builder = original(on) as { whenMatchedUpdateAll(): { whenNotMatchedInsertAll(): { execute(rows: { text: string }[]): Promise<unknown> } } };
      return {
        whenMatchedUpdateAll: () => ({
          whenNotMatchedInsertAll: () => ({
            execute: async (rows: { text: string }[]) => {
              batches.push(rows.map((row) => row.text));
              if (refuse && rows.some((row) => row.text === refuse)) throw new Error(`refused ${refuse}`);
              return builder.whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
            },
          }),
        }),
      };
    };
    return batches;
  }

  it('merges upserts waiting in the write queue into one merge-insert, in order, never past another write', async () => {
    const store = new LanceDbStore({ dataDir: tempDir() });
    await store.init(384);
    const batches = watchMergeInserts(store);
    const row = (docId: string, text: string) => chunk({ tenantId: 't', kbId: 'kb', docId, text, id: `t/kb/${docId}` });
    await Promise.all([store.upsert([row('a', 'a first')]), store.upsert([row('b', 'b row')]), store.upsert([row('a', 'a second')])]);
    // One write; for the same id the later upsert wins, as if they had been applied one by one.
    expect(batches).toEqual([['b row', 'a second']]);
    expect((await store.search({ tenantId: 't', kbIds: ['kb'], mode: 'fulltext', text: 'second first', limit: 5 })).map((hit) => hit.chunk.text)).toEqual(['a second']);
    batches.length = 0;
    // A delete queued between two upserts keeps its place: the second upsert is not merged into the first.
    await Promise.all([store.upsert([row('c', 'c old')]), store.deleteDocument({ tenantId: 't', kbId: 'kb', docId: 'c' }), store.upsert([row('c', 'c new')])]);
    expect(batches).toEqual([['c old'], ['c new']]);
    expect(await store.count({ tenantId: 't', kbIds: ['kb'], docId: 'c' })).toBe(1);
    await store.close();
  });

  it('applies each upsert of a merged write that failed on its own, so each gets its own outcome', async () => {
    const store = new LanceDbStore({ dataDir: tempDir() });
    await store.init(384);
    const batches = watchMergeInserts(store, 'poison');
    const outcomes = await Promise.allSettled(['fine one', 'poison', 'fine two'].map((text, i) => store.upsert([chunk({ tenantId: 't', kbId: 'kb', docId: `d${i}`, text })])));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(batches).toEqual([['fine one', 'poison', 'fine two'], ['fine one'], ['poison'], ['fine two']]);
    expect(await store.count({ tenantId: 't', kbIds: ['kb'] })).toBe(2);
    await store.close();
  });

  it('ranks full-text hits by score with limit, also for the first rows of a new table', async () => {
    const store = new LanceDbStore({ dataDir: tempDir() });
    await store.init(384);
    // Written weakest first, so scan order and score order disagree.
    await store.upsert(['kiwi one of many other words here', 'kiwi kiwi with some words', 'kiwi kiwi kiwi'].map((text, i) => chunk({ tenantId: 't', kbId: 'kb', docId: `d${i}`, text })));
    const hits = await store.search({ tenantId: 't', kbIds: ['kb'], mode: 'fulltext', text: 'kiwi', limit: 1 });
    expect(hits.map((h) => h.chunk.docId)).toEqual(['d2']);
    await store.close();
  });

  it('says what is wrong when used before init', async () => {
    const store = new LanceDbStore({ dataDir: tempDir() });
    await expect(store.count({ tenantId: 't', kbIds: ['kb'] })).rejects.toMatchObject({ code: 'not_initialised' });
  });
});
