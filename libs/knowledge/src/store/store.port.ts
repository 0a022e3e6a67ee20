// The vector + full-text store port. Every adapter (LanceDB embedded, Qdrant in production)
// passes the same contract suite (store.contract.ts). Every read is scoped to one tenant and a
// set of knowledge bases: there is no query without a scope.

/** One stored chunk of one version of one document. */
export interface ChunkRecord {
  /** Stable id of the row: derived from (tenantId, kbId, docId, version, position). */
  readonly id: string;
  readonly tenantId: string;
  readonly kbId: string;
  readonly docId: string;
  readonly version: string;
  /** 0-based position of the chunk in its document version. */
  readonly position: number;
  readonly text: string;
  /** sha256 (hex) of the normalised chunk text: unchanged chunks are not embedded again. */
  readonly hash: string;
  /** The embedding model that produced `vector` (hash reuse is per model). */
  readonly model: string;
  readonly vector: readonly number[];
  readonly title?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface Scope {
  readonly tenantId: string;
  /** Knowledge bases searched; an empty list matches nothing. */
  readonly kbIds: readonly string[];
}

export type SearchMode = 'dense' | 'fulltext' | 'hybrid';

export interface SearchQuery extends Scope {
  readonly mode: SearchMode;
  /** Needed for dense and hybrid. */
  readonly vector?: readonly number[];
  /** Needed for fulltext and hybrid. */
  readonly text?: string;
  readonly limit: number;
  /** Hybrid only: weights of the dense and full-text rankings in reciprocal rank fusion (default 1/1). */
  readonly weights?: { readonly dense: number; readonly fulltext: number };
  /**
   * Dense: minimum cosine similarity; hybrid: minimum fused score. Hits below are dropped.
   * Full text: not applied (BM25 scales differ between stores, so no threshold means the same on both).
   */
  readonly minScore?: number;
  /** Only these (docId → version) pairs are served when given: a document is never served half old, half new. */
  readonly versions?: ReadonlyMap<string, string>;
}

export interface SearchHit {
  readonly chunk: Omit<ChunkRecord, 'vector'>;
  /** Mode-specific: cosine similarity (dense), BM25 score (fulltext), fused RRF score (hybrid). */
  readonly score: number;
  /** 1-based ranks in each list that contributed (hybrid), for explanations and tests. */
  readonly ranks?: { readonly dense?: number; readonly fulltext?: number };
}

export interface KnowledgeStore {
  /** Creates tables/collections and indexes for vectors of this dimension; idempotent. */
  init(dimension: number): Promise<void>;
  /** Inserts or replaces rows by id. After it resolves the rows are visible to search (dense and full text). */
  upsert(chunks: readonly ChunkRecord[]): Promise<void>;
  /**
   * Vectors already stored in this knowledge base for these chunk hashes and this model, to
   * reuse instead of embedding again. Missing hashes are absent from the map.
   */
  vectorsByHash(scope: { tenantId: string; kbId: string; model: string }, hashes: readonly string[]): Promise<Map<string, number[]>>;
  /** Removes every chunk of a document, or every version except `keepVersion`. Returns rows removed. */
  deleteDocument(doc: { tenantId: string; kbId: string; docId: string; keepVersion?: string }): Promise<number>;
  /** Removes every chunk of a knowledge base. */
  deleteKnowledgeBase(kb: { tenantId: string; kbId: string }): Promise<number>;
  search(query: SearchQuery): Promise<SearchHit[]>;
  /** Number of rows in scope (tests, status pages). */
  count(scope: Scope & { docId?: string }): Promise<number>;
  close(): Promise<void>;
}
