// The embedded store: one LanceDB table on local disk for every tenant and knowledge base.
// Reads are always prefiltered by tenant and knowledge bases (lancedb-filter.ts). Writes go
// through one queue per table in this process, because concurrent merge-inserts into one Lance
// table race on the commit and may conflict; serialized, no batch is lost. Upserts that wait in
// the queue one after another are merged into one merge-insert (one commit instead of several:
// documents ingested at once finish together).
import { resolve } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Int32, Schema, Utf8 } from 'apache-arrow';
import { and, eq, inList, scopePredicate } from './lancedb-filter.ts';
import { KnowledgeStoreError } from './store.errors.ts';
import { silentLogger, type StoreLogger } from './store.logger.ts';
import type { ChunkRecord, KnowledgeStore, Scope, SearchHit, SearchQuery } from './store.port.ts';
import { applyDenseMinScore, checkChunks, checkQuery, checkScope, fuseHybrid, hybridCandidates, lastById, scopeIsEmpty } from './store-query.ts';

export interface LanceDbStoreOptions {
  /** Directory of the LanceDB database (created if missing). */
  readonly dataDir: string;
  /** Table name; one table holds every tenant. Default `chunks`. */
  readonly table?: string;
  readonly logger?: StoreLogger;
  /**
   * Build the ANN vector index once the table holds this many rows. Below it a flat (exact) scan
   * of the prefiltered rows has perfect recall; every query is scoped to a tenant's knowledge
   * bases, which an IVF index serves poorly (few of its probed partitions hold the scope's rows).
   * Default 1 000 000 (see ADR 0006 and docs/benchmarks.md for the latency at 100k rows).
   */
  readonly vectorIndexMinRows?: number;
  /** Compact, fold new rows into the indexes and prune old versions after this many writes. Default 50. */
  readonly optimizeEveryWrites?: number;
  /** Table versions older than this are pruned by the periodic optimize. Default 10 minutes. */
  readonly keepVersionsMs?: number;
  /**
   * How stale a read may be with respect to writes by OTHER processes (seconds). 0 (default): every
   * read checks the manifest, so the inference workers see what knowledge-ingest wrote at once.
   */
  readonly readConsistencySeconds?: number;
  /** Tokenizer of the full-text index. Default: LanceDB's (simple tokenizer, lowercase, English stemming and stop words, ASCII folding). */
  readonly fts?: Partial<lancedb.FtsOptions>;
}

const FTS_INDEX = 'text_idx';
const COLUMNS = ['id', 'tenantId', 'kbId', 'docId', 'version', 'position', 'text', 'hash', 'model', 'title', 'metadata'] as const;
const SCALAR_INDEXES: readonly [string, () => lancedb.Index][] = [
  ['tenantId', () => lancedb.Index.bitmap()],
  ['kbId', () => lancedb.Index.btree()],
  ['docId', () => lancedb.Index.btree()],
  ['hash', () => lancedb.Index.btree()],
];
/** Write queues per table path, shared by every store instance of this process. */
const writeQueues = new Map<string, Promise<unknown>>();

/** Upserts of one store instance waiting in a write queue together, applied as one merge-insert when their turn comes. */
interface UpsertGroup {
  readonly owner: LanceDbStore;
  readonly parts: { readonly chunks: readonly ChunkRecord[]; readonly resolve: () => void; readonly reject: (error: unknown) => void }[];
}
/** Per write queue: the upsert group at its tail that has not started yet (later upserts join it). */
const openUpserts = new Map<string, UpsertGroup>();
/** Rows of one merged merge-insert at most (a group is closed beyond). */
const MAX_MERGED_ROWS = 2_048;

interface Row {
  id: string;
  tenantId: string;
  kbId: string;
  docId: string;
  version: string;
  position: number;
  text: string;
  hash: string;
  model: string;
  title: string | null;
  metadata: string | null;
  _distance?: number;
  _score?: number;
}

export class LanceDbStore implements KnowledgeStore {
  private readonly tableName: string;
  private readonly path: string;
  private readonly logger: StoreLogger;
  private db?: lancedb.Connection;
  private table?: lancedb.Table;
  private dimension = 0;
  private hasVectorIndex = false;
  private writesSinceOptimize = 0;
  private maintenance?: Promise<void>;
  private closed = false;
  private readonly options: LanceDbStoreOptions;

  constructor(options: LanceDbStoreOptions) {
    this.options = options;
    this.tableName = options.table ?? 'chunks';
    this.path = resolve(options.dataDir);
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Opens the table, creating it when missing. Another instance may be creating it at this very
   * moment (its folder is there, its first version not yet): then it is opened again shortly.
   */
  private async openOrCreate(db: lancedb.Connection, dimension: number): Promise<lancedb.Table> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await db.tableNames()).includes(this.tableName) ? await db.openTable(this.tableName) : await db.createEmptyTable(this.tableName, schemaOf(dimension), { existOk: true });
      } catch (error) {
        // Not `instanceof Error`: the native module's errors may come from another realm.
        const beingCreated = /could not be loaded|was not found/.test(String((error as { message?: unknown } | null)?.message ?? error));
        if (!beingCreated || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async init(dimension: number): Promise<void> {
    if (!Number.isInteger(dimension) || dimension < 1) throw new KnowledgeStoreError('invalid_query', `dimension must be a positive integer, got ${dimension}`);
    if (this.table) {
      if (dimension !== this.dimension) throw new KnowledgeStoreError('dimension_mismatch', `store already initialised with dimension ${this.dimension}, not ${dimension}`);
      return;
    }
    this.db ??= await lancedb.connect(this.path, { readConsistencyInterval: this.options.readConsistencySeconds ?? 0 });
    const table = await this.openOrCreate(this.db, dimension);
    const stored = vectorDimensionOf(await table.schema());
    if (stored !== dimension) {
      table.close();
      throw new KnowledgeStoreError('dimension_mismatch', `LanceDB table '${this.tableName}' in ${this.path} holds ${stored}-d vectors, the embedding model gives ${dimension}-d: use another table (or data dir) per dimension`);
    }
    await this.serialized(() => this.ensureIndexes(table));
    this.table = table;
    this.dimension = dimension;
    this.hasVectorIndex = (await table.listIndices()).some((index) => index.columns.includes('vector'));
    this.logger.info({ path: this.path, table: this.tableName, dimension, rows: await table.countRows(), vectorIndex: this.hasVectorIndex }, 'LanceDB store ready');
  }

  async upsert(chunks: readonly ChunkRecord[]): Promise<void> {
    const table = this.ready();
    checkChunks(chunks, this.dimension);
    if (chunks.length === 0) return;
    const key = this.queueKey();
    // Nothing was queued since that group: joining it keeps the order of the writes.
    const open = openUpserts.get(key);
    if (open?.owner === this && open.parts.reduce((rows, part) => rows + part.chunks.length, chunks.length) <= MAX_MERGED_ROWS) {
      return new Promise<void>((resolve, reject) => open.parts.push({ chunks, resolve, reject }));
    }
    const group: UpsertGroup = { owner: this, parts: [] };
    const mine = new Promise<void>((resolve, reject) => group.parts.push({ chunks, resolve, reject }));
    // Every part settles through applyUpserts, which never throws.
    void this.write(async () => {
      if (openUpserts.get(key) === group) openUpserts.delete(key);
      await this.applyUpserts(table, group.parts);
    }).catch(() => undefined);
    openUpserts.set(key, group);
    return mine;
  }

  /**
   * The upserts of a group as one merge-insert (a later upsert's row wins over an earlier one's
   * with the same id, as if applied one after another). If that fails, each is applied alone:
   * every upsert gets its own outcome, whatever another one's rows did.
   */
  private async applyUpserts(table: lancedb.Table, parts: UpsertGroup['parts']): Promise<void> {
    const apply = async (chunks: readonly ChunkRecord[]) => {
      await table.mergeInsert(['tenantId', 'id']).whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(lastById(chunks).map(rowOf));
      await this.keepFtsIndexNonEmpty(table);
    };
    try {
      await apply(parts.length === 1 ? parts[0]!.chunks : parts.flatMap((part) => part.chunks));
      for (const part of parts) part.resolve();
    } catch (error) {
      if (parts.length === 1) return parts[0]!.reject(error);
      for (const part of parts) await apply(part.chunks).then(part.resolve, part.reject);
    }
  }

  async vectorsByHash(scope: { tenantId: string; kbId: string; model: string }, hashes: readonly string[]): Promise<Map<string, number[]>> {
    const table = this.ready();
    checkScope(scope);
    const found = new Map<string, number[]>();
    const unique = [...new Set(hashes)];
    for (let start = 0; start < unique.length; start += 500) {
      const where = and(eq('tenantId', scope.tenantId), eq('kbId', scope.kbId), eq('model', scope.model), inList('hash', unique.slice(start, start + 500)));
      const rows = (await table.query().where(where).select(['hash', 'vector']).toArray()) as { hash: string; vector: Iterable<number> }[];
      for (const row of rows) if (!found.has(row.hash)) found.set(row.hash, Array.from(row.vector));
    }
    return found;
  }

  async deleteDocument(doc: { tenantId: string; kbId: string; docId: string; keepVersion?: string }): Promise<number> {
    const table = this.ready();
    checkScope(doc);
    const where = and(eq('tenantId', doc.tenantId), eq('kbId', doc.kbId), eq('docId', doc.docId), doc.keepVersion === undefined ? undefined : `NOT (${eq('version', doc.keepVersion)})`);
    return this.write(async () => (await table.delete(where)).numDeletedRows);
  }

  async deleteKnowledgeBase(kb: { tenantId: string; kbId: string }): Promise<number> {
    const table = this.ready();
    checkScope(kb);
    return this.write(async () => (await table.delete(and(eq('tenantId', kb.tenantId), eq('kbId', kb.kbId)))).numDeletedRows);
  }

  async search(query: SearchQuery): Promise<SearchHit[]> {
    this.ready();
    checkQuery(query, this.dimension);
    if (scopeIsEmpty(query)) return [];
    const where = scopePredicate(query);
    if (query.mode === 'dense') return applyDenseMinScore(await this.dense(query.vector!, where, query.limit), query.minScore);
    if (query.mode === 'fulltext') return this.fulltext(query.text!, where, query.limit);
    const depth = hybridCandidates(query.limit);
    const [dense, fulltext] = await Promise.all([this.dense(query.vector!, where, depth), this.fulltext(query.text!, where, depth)]);
    return fuseHybrid(dense, fulltext, query);
  }

  async count(scope: Scope & { docId?: string }): Promise<number> {
    const table = this.ready();
    checkScope(scope);
    if (scopeIsEmpty(scope)) return 0;
    return table.countRows(scopePredicate(scope));
  }

  /**
   * Compacts small fragments, folds new rows into the full-text and scalar indexes, prunes old
   * versions, and builds the vector index once the table is big enough. Runs by itself every
   * `optimizeEveryWrites` writes; callable by operators and benchmarks.
   */
  async optimize(options: { force?: boolean } = {}): Promise<{ vectorIndex: boolean; rows: number }> {
    const table = this.ready();
    await this.serialized(async () => {
      await table.optimize({ cleanupOlderThan: new Date(Date.now() - (this.options.keepVersionsMs ?? 10 * 60_000)) });
      this.writesSinceOptimize = 0;
    });
    const rows = await table.countRows();
    if (!this.hasVectorIndex && (options.force || rows >= (this.options.vectorIndexMinRows ?? 1_000_000)) && rows >= 256) {
      // Built outside the write queue: Lance commits an index next to concurrent appends, and the
      // rows written meanwhile are searched flat until the next optimize folds them in.
      const started = Date.now();
      await table.createIndex('vector', { config: vectorIndexFor(rows, this.dimension), replace: false });
      this.hasVectorIndex = true;
      this.logger.info({ table: this.tableName, rows, ms: Date.now() - started }, 'LanceDB vector index built');
    }
    return { vectorIndex: this.hasVectorIndex, rows };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.maintenance?.catch(() => undefined);
    await (writeQueues.get(this.queueKey()) ?? Promise.resolve()).catch(() => undefined);
    this.table?.close();
    this.db?.close();
    this.table = undefined;
  }

  private async dense(vector: readonly number[], where: string, limit: number): Promise<SearchHit[]> {
    let query = this.table!.vectorSearch(Float32Array.from(vector)).distanceType('cosine').where(where).select([...COLUMNS, '_distance']).limit(limit);
    // With an index the distances come from quantised vectors: re-rank 10× the candidates on the
    // full vectors so scores (and minScore) are exact cosine similarities.
    if (this.hasVectorIndex) query = query.refineFactor(10);
    const rows = (await query.toArray()) as Row[];
    return rows.map((row) => hitOf(row, 1 - (row._distance ?? 1)));
  }

  private async fulltext(text: string, where: string, limit: number): Promise<SearchHit[]> {
    // A MatchQuery takes the text as terms (OR), never as query syntax: quotes, AND, parentheses
    // and colons in user text are just characters. Rows not yet folded into the index are scanned
    // (flat match), so a row is searchable as soon as upsert resolves.
    const rows = (await this.table!.query().fullTextSearch(new lancedb.MatchQuery(text, 'text')).where(where).select([...COLUMNS, '_score']).limit(limit).toArray()) as Row[];
    // Sorted here too: the order of the engine's output is a plan detail (see keepFtsIndexNonEmpty).
    return rows.map((row) => hitOf(row, row._score ?? 0)).sort((a, b) => b.score - a.score);
  }

  /**
   * LanceDB 0.37 plans a filtered full-text search over a table whose FTS index holds no rows yet
   * (index created on the empty table, every row in the unindexed tail) without the top-k sort:
   * `limit` then keeps the first matches in scan order, not the best. Once the index holds at least
   * one row the plan unions index and tail and sorts. So the first write into an empty index folds
   * the rows in before upsert resolves (checked in lancedb.spec.ts: 'ranks full-text hits...').
   */
  private async keepFtsIndexNonEmpty(table: lancedb.Table): Promise<void> {
    const stats = await table.indexStats(FTS_INDEX);
    if (stats && stats.numIndexedRows > 0) return;
    await table.optimize({ cleanupOlderThan: new Date(Date.now() - (this.options.keepVersionsMs ?? 10 * 60_000)) });
  }

  private ready(): lancedb.Table {
    if (this.closed) throw new KnowledgeStoreError('not_initialised', 'the LanceDB store is closed');
    if (!this.table) throw new KnowledgeStoreError('not_initialised', 'call init(dimension) before using the LanceDB store');
    return this.table;
  }

  private async write<T>(operation: () => Promise<T>): Promise<T> {
    const result = await this.serialized(operation);
    if (++this.writesSinceOptimize >= (this.options.optimizeEveryWrites ?? 50) && !this.maintenance) {
      this.maintenance = this.optimize()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn({ err: error, table: this.tableName }, 'LanceDB optimize failed; will retry after more writes'))
        .finally(() => {
          this.maintenance = undefined;
        });
    }
    return result;
  }

  private serialized<T>(operation: () => Promise<T>): Promise<T> {
    const key = this.queueKey();
    // Anything queued after an upsert group closes it: a later upsert must not overtake this operation.
    openUpserts.delete(key);
    const previous = writeQueues.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(operation);
    const tail = next.catch(() => undefined);
    writeQueues.set(key, tail);
    void tail.then(() => {
      if (writeQueues.get(key) === tail) writeQueues.delete(key);
    });
    return next;
  }

  private queueKey(): string {
    return `${this.path}\u0000${this.tableName}`;
  }

  private async ensureIndexes(table: lancedb.Table): Promise<void> {
    const existing = new Set((await table.listIndices()).flatMap((index) => index.columns));
    const wanted: [string, lancedb.Index, string][] = [['text', lancedb.Index.fts(this.options.fts ?? {}), FTS_INDEX], ...SCALAR_INDEXES.map(([column, make]) => [column, make(), `${column}_idx`] as [string, lancedb.Index, string])];
    for (const [column, config, name] of wanted) {
      if (existing.has(column)) continue;
      for (let attempt = 1; ; attempt++) {
        try {
          await table.createIndex(column, { config, replace: false, name });
          break;
        } catch (error) {
          const message = String((error as Error).message);
          // Another process created it between our listing and our call: that is the goal.
          if (/already exists/i.test(message)) break;
          // Two processes creating indexes at once (several workers starting together), or an index
          // built while another writer overwrote the table: Lance refuses the later commit ("commit
          // conflict", "Incompatible transaction"); look again and retry.
          if (/commit conflict|incompatible transaction|preempted|retry/i.test(message) && attempt < 5) {
            await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
            await table.checkoutLatest();
            if ((await table.listIndices()).some((index) => index.columns.includes(column))) break;
            continue;
          }
          throw new KnowledgeStoreError('backend', `creating the ${column} index failed: ${message}`, { cause: error });
        }
      }
    }
  }
}

function schemaOf(dimension: number): Schema {
  const text = (name: string, nullable = false) => new Field(name, new Utf8(), nullable);
  return new Schema([
    text('id'),
    text('tenantId'),
    text('kbId'),
    text('docId'),
    text('version'),
    new Field('position', new Int32(), false),
    text('text'),
    text('hash'),
    text('model'),
    text('title', true),
    text('metadata', true),
    new Field('vector', new FixedSizeList(dimension, new Field('item', new Float32(), true)), false),
  ]);
}

function vectorDimensionOf(schema: Schema): number {
  const type = schema.fields.find((field) => field.name === 'vector')?.type as FixedSizeList | undefined;
  if (!type || typeof type.listSize !== 'number') throw new KnowledgeStoreError('incompatible_schema', 'the LanceDB table has no fixed-size vector column');
  return type.listSize;
}

/**
 * IVF-PQ (cosine): the quickest to build on a small machine (a single-partition IVF-HNSW-SQ graph
 * of 100k 384-d rows took minutes on 2 busy cores); queries re-rank on full vectors
 * (refineFactor), so the scores stay exact. See ADR 0006.
 */
function vectorIndexFor(rows: number, dimension: number): lancedb.Index {
  return lancedb.Index.ivfPq({ distanceType: 'cosine', numPartitions: Math.max(1, Math.round(Math.sqrt(rows))), numSubVectors: dimension % 16 === 0 ? dimension / 16 : dimension % 8 === 0 ? dimension / 8 : 1 });
}

function rowOf(chunk: ChunkRecord): Record<string, unknown> {
  return {
    id: chunk.id,
    tenantId: chunk.tenantId,
    kbId: chunk.kbId,
    docId: chunk.docId,
    version: chunk.version,
    position: chunk.position,
    text: chunk.text,
    hash: chunk.hash,
    model: chunk.model,
    title: chunk.title ?? null,
    metadata: chunk.metadata ? JSON.stringify(chunk.metadata) : null,
    vector: [...chunk.vector],
  };
}

function hitOf(row: Row, score: number): SearchHit {
  return {
    chunk: {
      id: row.id,
      tenantId: row.tenantId,
      kbId: row.kbId,
      docId: row.docId,
      version: row.version,
      position: row.position,
      text: row.text,
      hash: row.hash,
      model: row.model,
      ...(row.title != null ? { title: row.title } : {}),
      ...(row.metadata != null ? { metadata: JSON.parse(row.metadata) as Record<string, string> } : {}),
    },
    score,
  };
}
