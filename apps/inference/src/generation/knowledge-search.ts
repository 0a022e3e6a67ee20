import type { KnowledgeRegistry, Retriever } from '@aip/knowledge';
import type { GroundingPassage, KnowledgeSearch } from './grounding.ts';

/**
 * The knowledge base as the worker searches it: the request's knowledge bases, or every one of
 * the tenant's when the request names none; active document versions only (the retriever).
 */
export class KnowledgeBaseSearch implements KnowledgeSearch {
  constructor(
    private readonly retriever: Pick<Retriever, 'search'>,
    private readonly registry: Pick<KnowledgeRegistry, 'listKnowledgeBases'>,
  ) {}

  async search(request: { tenantId: string; kbIds?: readonly string[]; query: string; limit: number }): Promise<GroundingPassage[]> {
    const kbIds = request.kbIds ?? (await this.registry.listKnowledgeBases(request.tenantId)).map((kb) => kb.kbId);
    if (kbIds.length === 0) return [];
    return this.retriever.search({ tenantId: request.tenantId, kbIds, query: request.query, limit: request.limit });
  }
}
