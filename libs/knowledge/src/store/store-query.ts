// Adapter-independent parts of a search: input checks, the "nothing in scope" shortcut, and the
// hybrid fusion. Both adapters call these, so LanceDB and Qdrant agree on every rule that is not
// about the engine itself.
import { idCharactersProblem, idProblem } from '@aip/contracts';
import { reciprocalRankFusion } from './reciprocal-rank-fusion.ts';
import { KnowledgeStoreError } from './store.errors.ts';
import type { ChunkRecord, SearchHit, SearchQuery } from './store.port.ts';

/** Largest `limit` a search accepts: retrieval feeds a prompt, not an export. */
export const MAX_SEARCH_LIMIT = 1_000;
/** RRF damping constant used by both adapters for `mode: 'hybrid'`. */
export const RRF_K = 60;

/** Checks a query before any I/O; throws `KnowledgeStoreError('invalid_query')` naming the field. */
export function checkQuery(query: SearchQuery, dimension: number): void {
  const bad = (message: string) => new KnowledgeStoreError('invalid_query', message);
  if (!query.tenantId) throw bad('tenantId is required');
  checkScope(query);
  if (!['dense', 'fulltext', 'hybrid'].includes(query.mode)) throw bad(`mode must be dense, fulltext or hybrid, got ${String(query.mode)}`);
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_SEARCH_LIMIT) throw bad(`limit must be an integer in 1..${MAX_SEARCH_LIMIT}, got ${query.limit}`);
  if (query.mode !== 'fulltext') {
    if (!query.vector) throw bad(`vector is required for mode '${query.mode}'`);
    checkVector(query.vector, dimension, 'vector', bad);
  }
  if (query.mode !== 'dense' && (typeof query.text !== 'string' || query.text.trim() === '')) throw bad(`text is required for mode '${query.mode}'`);
  if (query.minScore !== undefined && !Number.isFinite(query.minScore)) throw bad('minScore must be a finite number');
  if (query.weights) {
    for (const [name, weight] of Object.entries(query.weights)) {
      if (!Number.isFinite(weight) || weight < 0) throw bad(`weights.${name} must be a finite number >= 0`);
    }
  }
}

/**
 * Checks the ids and labels a read or delete filters on (the platform's one id rule, from the
 * contracts): no stored row can hold a value that fails it, and some fail in the engine itself (a
 * NUL in a LanceDB literal, an unpaired surrogate in Qdrant's JSON).
 */
export function checkScope(scope: { tenantId: string; kbIds?: readonly string[]; kbId?: string; docId?: string; keepVersion?: string; versions?: ReadonlyMap<string, string> }): void {
  const check = (field: string, value: unknown) => {
    const problem = idProblem(value);
    if (problem) throw new KnowledgeStoreError('invalid_query', `${field} ${problem}`);
  };
  check('tenantId', scope.tenantId);
  if (scope.kbIds !== undefined) {
    if (!Array.isArray(scope.kbIds)) throw new KnowledgeStoreError('invalid_query', 'kbIds must be an array');
    scope.kbIds.forEach((kbId, i) => check(`kbIds[${i}]`, kbId));
  }
  if (scope.kbId !== undefined) check('kbId', scope.kbId);
  if (scope.docId !== undefined) check('docId', scope.docId);
  if (scope.keepVersion !== undefined) check('keepVersion', scope.keepVersion);
  for (const [docId, version] of scope.versions ?? []) {
    check('versions (docId)', docId);
    check(`versions[${JSON.stringify(docId)}]`, version);
  }
}

/**
 * Checks rows before a write, so a bad batch is refused whole and nothing is half written. A row
 * is refused, not stored, when an id or label fails the platform's id rule: once stored, a value
 * the store cannot filter on breaks every later search of its tenant (a NUL version label did).
 */
export function checkChunks(chunks: readonly ChunkRecord[], dimension: number): void {
  chunks.forEach((chunk, index) => {
    const bad = (message: string) => new KnowledgeStoreError('invalid_chunk', `chunk ${index} (${JSON.stringify(chunk.id)}): ${message}`);
    for (const field of ['id', 'tenantId', 'kbId', 'docId', 'version', 'hash', 'model'] as const) {
      if (typeof chunk[field] !== 'string' || chunk[field] === '') throw bad(`${field} must be a non-empty string`);
    }
    for (const field of ['tenantId', 'kbId', 'docId', 'version'] as const) {
      const problem = idProblem(chunk[field]);
      if (problem) throw bad(`${field} ${problem}`);
    }
    // Derived by the platform (hashes, the model id), but filtered on too: the same characters, any length.
    for (const field of ['id', 'hash', 'model'] as const) {
      const problem = idCharactersProblem(chunk[field]);
      if (problem) throw bad(`${field} ${problem}`);
    }
    if (typeof chunk.text !== 'string') throw bad('text must be a string');
    // Qdrant refuses JSON with an unpaired surrogate; LanceDB would store U+FFFD instead.
    const texts = [chunk.text, chunk.title ?? '', ...Object.entries(chunk.metadata ?? {}).flat()];
    if (texts.some((text) => typeof text !== 'string' || !text.isWellFormed())) throw bad('text, title and metadata must be valid Unicode strings');
    if (!Number.isInteger(chunk.position) || chunk.position < 0 || chunk.position > 2 ** 31 - 1) throw bad('position must be an integer >= 0');
    checkVector(chunk.vector, dimension, 'vector', bad);
  });
}

function checkVector(vector: readonly number[], dimension: number, field: string, bad: (message: string) => Error): void {
  if (vector.length !== dimension) throw bad(`${field} has ${vector.length} dimensions, the store holds ${dimension}`);
  let norm = 0;
  for (const value of vector) {
    if (!Number.isFinite(value)) throw bad(`${field} holds a non-finite value`);
    norm += value * value;
  }
  // Cosine similarity of a zero vector is undefined: such a row could never be found.
  if (norm === 0) throw bad(`${field} is all zeros`);
}

/** True when the scope can match nothing (no knowledge base, or an empty versions map). */
export function scopeIsEmpty(query: { kbIds: readonly string[]; versions?: ReadonlyMap<string, string> }): boolean {
  return query.kbIds.length === 0 || (query.versions !== undefined && query.versions.size === 0);
}

/** Last write wins inside one batch, as it would across batches. */
export function lastById(chunks: readonly ChunkRecord[]): ChunkRecord[] {
  const byId = new Map<string, ChunkRecord>();
  for (const chunk of chunks) {
    byId.delete(chunk.id);
    byId.set(chunk.id, chunk);
  }
  return [...byId.values()];
}

/**
 * Candidates each list contributes to a hybrid search (the RRF window): the top `limit` of each.
 * Being in both lists adds the two contributions, which is evidence of relevance only while each
 * list is selective. Dense search always returns a full list, so a deep window (it was
 * max(4 × limit, 40)) covers most of a small knowledge base: every full-text hit, however weak
 * (one shared common word), then also sat somewhere in the dense list and outranked the best
 * dense-only passage — paraphrased questions lost their answer (recall@5 of hybrid fell below
 * dense alone on the labelled set in test/quality; see the README, "Retrieval quality").
 */
export function hybridCandidates(limit: number): number {
  return Math.min(limit, MAX_SEARCH_LIMIT);
}

/** Dense minScore is a cosine similarity; full text has no threshold (BM25 scales differ per store). */
export function applyDenseMinScore(hits: SearchHit[], minScore: number | undefined): SearchHit[] {
  return minScore === undefined ? hits : hits.filter((hit) => hit.score >= minScore);
}

/** Fuses dense and full-text hits with RRF; `minScore` applies to the fused score. */
export function fuseHybrid(dense: readonly SearchHit[], fulltext: readonly SearchHit[], query: SearchQuery): SearchHit[] {
  const fused = reciprocalRankFusion(
    [
      { name: 'dense', items: dense },
      { name: 'fulltext', items: fulltext },
    ],
    { k: RRF_K, key: (hit) => hit.chunk.id, weights: { dense: query.weights?.dense ?? 1, fulltext: query.weights?.fulltext ?? 1 } },
  );
  return fused
    .filter((f) => query.minScore === undefined || f.score >= query.minScore)
    .slice(0, query.limit)
    .map((f) => ({ chunk: f.item.chunk, score: f.score, ranks: { ...(f.ranks['dense'] ? { dense: f.ranks['dense'] } : {}), ...(f.ranks['fulltext'] ? { fulltext: f.ranks['fulltext'] } : {}) } }));
}
