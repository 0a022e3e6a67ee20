import { isValidId } from '@aip/contracts';
import type { KnowledgeStore, SearchHit, SearchMode } from '../store/store.port.ts';
import type { ActiveVersionSource } from '../ingest/knowledge.registry.ts';

/** The part of a LangChain `Embeddings` retrieval uses. */
export interface QueryEmbedder {
  embedQuery(text: string): Promise<number[]>;
}

export interface RetrievalRequest {
  readonly tenantId: string;
  /** Knowledge bases to search (of this tenant); an empty list finds nothing. */
  readonly kbIds: readonly string[];
  readonly query: string;
  /** Passages returned (default 5, at most `maxLimit`). */
  readonly limit?: number;
  /** Default `hybrid` (dense + full text fused with reciprocal rank fusion). */
  readonly mode?: SearchMode;
  /** Dense: minimum cosine similarity; hybrid: minimum fused score; passages below are dropped. */
  readonly minScore?: number;
}

export interface PassageSource {
  readonly kbId: string;
  readonly docId: string;
  readonly version: string;
  /** 0-based position of the chunk in its document version. */
  readonly position: number;
  readonly title?: string;
}

export interface RetrievedPassage {
  readonly text: string;
  /** Mode-specific (cosine, BM25 or fused RRF score); higher is better. */
  readonly score: number;
  readonly source: PassageSource;
}

export interface RetrieverOptions {
  store: KnowledgeStore;
  embeddings: QueryEmbedder;
  /** Active version of every document (the knowledge registry). */
  versions: ActiveVersionSource;
  defaultLimit?: number;
  maxLimit?: number;
}

/**
 * Search for RAG: embeds the query (dense and hybrid), and asks the store for passages of the
 * ACTIVE versions only, always scoped to one tenant and its knowledge bases. A document being
 * replaced is served in its old version until the new one is complete; a deleted document is not
 * served from the moment its deletion starts.
 */
export class Retriever {
  private readonly defaultLimit: number;
  private readonly maxLimit: number;

  constructor(private readonly options: RetrieverOptions) {
    this.defaultLimit = options.defaultLimit ?? 5;
    this.maxLimit = options.maxLimit ?? 50;
  }

  async search(request: RetrievalRequest): Promise<RetrievedPassage[]> {
    const query = request.query.trim();
    const mode = request.mode ?? 'hybrid';
    const limit = Math.max(1, Math.min(Math.floor(request.limit ?? this.defaultLimit), this.maxLimit));
    // A knowledge base id that fails the id rule names no base (none can be stored under it): it finds nothing.
    const kbIds = request.kbIds.filter(isValidId);
    if (!query || kbIds.length === 0) return [];
    const active = servable(await this.options.versions.activeVersions(request.tenantId, kbIds));
    const searchable = [...active].filter(([, docs]) => docs.size > 0);
    if (searchable.length === 0) return [];
    const vector = mode === 'fulltext' ? undefined : await this.options.embeddings.embedQuery(query);

    // `SearchQuery.versions` is keyed by docId: when one docId exists in two of the searched
    // knowledge bases, each base is searched on its own so neither serves the other's version.
    const groups = hasSharedDocIds(searchable) ? searchable.map((entry) => [entry]) : [searchable];
    const results = await Promise.all(
      groups.map((group) => {
        const versions = new Map<string, string>();
        for (const [, docs] of group) for (const [docId, version] of docs) versions.set(docId, version);
        return this.options.store.search({
          tenantId: request.tenantId,
          kbIds: group.map(([kbId]) => kbId),
          mode,
          limit,
          versions,
          ...(vector ? { vector } : {}),
          ...(mode === 'dense' ? {} : { text: query }),
          ...(request.minScore === undefined ? {} : { minScore: request.minScore }),
        });
      }),
    );
    const hits = results.flat();
    if (groups.length > 1) hits.sort((a, b) => b.score - a.score);
    return hits
      .filter((hit) => hit.chunk.tenantId === request.tenantId && active.get(hit.chunk.kbId)?.get(hit.chunk.docId) === hit.chunk.version)
      .slice(0, limit)
      .map(toPassage);
  }
}

/**
 * Active versions whose docId and label pass the id rule. The store refuses such rows, so these
 * match nothing; but one in the scope filter (e.g. a NUL label, registered before the rule)
 * would fail the whole search, and with it every query of the tenant.
 */
function servable(active: Map<string, Map<string, string>>): Map<string, Map<string, string>> {
  return new Map([...active].map(([kbId, docs]) => [kbId, new Map([...docs].filter(([docId, version]) => isValidId(docId) && isValidId(version)))]));
}

function hasSharedDocIds(entries: [string, Map<string, string>][]): boolean {
  const seen = new Set<string>();
  for (const [, docs] of entries) {
    for (const docId of docs.keys()) {
      if (seen.has(docId)) return true;
      seen.add(docId);
    }
  }
  return false;
}

function toPassage(hit: SearchHit): RetrievedPassage {
  const { chunk } = hit;
  return {
    text: chunk.text,
    score: hit.score,
    source: { kbId: chunk.kbId, docId: chunk.docId, version: chunk.version, position: chunk.position, ...(chunk.title ? { title: chunk.title } : {}) },
  };
}
