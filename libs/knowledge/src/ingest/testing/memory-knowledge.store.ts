// Test doubles for the unit specs of ingestion and retrieval (not exported from the package):
// a KnowledgeStore in memory with the port's semantics, and a deterministic embedder that counts calls.
import type { ChunkRecord, KnowledgeStore, Scope, SearchHit, SearchQuery } from '../../store/store.port.ts';

export class MemoryKnowledgeStore implements KnowledgeStore {
  readonly rows = new Map<string, ChunkRecord>();
  upserts = 0;

  async init(): Promise<void> {}

  async upsert(chunks: readonly ChunkRecord[]): Promise<void> {
    this.upserts++;
    for (const chunk of chunks) this.rows.set(chunk.id, chunk);
  }

  async vectorsByHash(scope: { tenantId: string; kbId: string; model: string }, hashes: readonly string[]): Promise<Map<string, number[]>> {
    const wanted = new Set(hashes);
    const found = new Map<string, number[]>();
    for (const row of this.rows.values()) {
      if (row.tenantId === scope.tenantId && row.kbId === scope.kbId && row.model === scope.model && wanted.has(row.hash)) found.set(row.hash, [...row.vector]);
    }
    return found;
  }

  async deleteDocument(doc: { tenantId: string; kbId: string; docId: string; keepVersion?: string }): Promise<number> {
    let removed = 0;
    for (const [id, row] of this.rows) {
      if (row.tenantId === doc.tenantId && row.kbId === doc.kbId && row.docId === doc.docId && row.version !== doc.keepVersion) removed += Number(this.rows.delete(id));
    }
    return removed;
  }

  async deleteKnowledgeBase(kb: { tenantId: string; kbId: string }): Promise<number> {
    let removed = 0;
    for (const [id, row] of this.rows) if (row.tenantId === kb.tenantId && row.kbId === kb.kbId) removed += Number(this.rows.delete(id));
    return removed;
  }

  async search(query: SearchQuery): Promise<SearchHit[]> {
    const rows = [...this.rows.values()].filter(
      (row) => row.tenantId === query.tenantId && query.kbIds.includes(row.kbId) && (!query.versions || query.versions.get(row.docId) === row.version),
    );
    const dense = query.vector ? rows.map((row) => ({ row, score: cosine(row.vector, query.vector!) })).sort((a, b) => b.score - a.score) : [];
    const terms = (query.text ?? '').toLowerCase().split(/\W+/).filter(Boolean);
    const fulltext = rows
      .map((row) => ({ row, score: terms.filter((term) => row.text.toLowerCase().includes(term)).length }))
      .filter((hit) => hit.score > 0)
      .sort((a, b) => b.score - a.score);
    const strip = ({ vector: _vector, ...chunk }: ChunkRecord) => chunk;
    if (query.mode === 'dense') return dense.filter((h) => query.minScore === undefined || h.score >= query.minScore).slice(0, query.limit).map((h) => ({ chunk: strip(h.row), score: h.score }));
    if (query.mode === 'fulltext') return fulltext.slice(0, query.limit).map((h) => ({ chunk: strip(h.row), score: h.score }));
    const fused = new Map<string, { row: ChunkRecord; score: number }>();
    for (const list of [dense, fulltext]) {
      list.forEach((hit, rank) => {
        const entry = fused.get(hit.row.id) ?? { row: hit.row, score: 0 };
        entry.score += 1 / (60 + rank + 1);
        fused.set(hit.row.id, entry);
      });
    }
    return [...fused.values()].sort((a, b) => b.score - a.score).slice(0, query.limit).map((h) => ({ chunk: strip(h.row), score: h.score }));
  }

  async count(scope: Scope & { docId?: string }): Promise<number> {
    return [...this.rows.values()].filter((row) => row.tenantId === scope.tenantId && scope.kbIds.includes(row.kbId) && (!scope.docId || row.docId === scope.docId)).length;
  }

  async close(): Promise<void> {}
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** Bag-of-words vectors (hashed into `dimension` buckets): similar texts get similar vectors, and every call is counted. */
export class CountingEmbedder {
  calls = 0;
  texts = 0;
  queries = 0;

  constructor(readonly dimension = 64) {}

  vector(text: string): number[] {
    const out = new Array<number>(this.dimension).fill(0);
    for (const word of text.toLowerCase().split(/\W+/).filter(Boolean)) {
      let h = 0;
      for (const ch of word) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
      out[h % this.dimension]! += 1;
    }
    return out;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.calls++;
    this.texts += texts.length;
    return texts.map((text) => this.vector(text));
  }

  async embedQuery(text: string): Promise<number[]> {
    this.queries++;
    return this.vector(text);
  }
}
