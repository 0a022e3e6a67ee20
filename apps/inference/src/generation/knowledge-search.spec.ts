import { KnowledgeBaseSearch } from './knowledge-search.ts';

describe('knowledge search of a worker', () => {
  const passage = { text: 'West Lake is free.', score: 0.5, source: { kbId: 'travel', docId: 'hz', version: 'v1', position: 0 } };

  function setup(bases: string[]) {
    const searched: { tenantId: string; kbIds: readonly string[]; query: string; limit?: number }[] = [];
    const search = new KnowledgeBaseSearch(
      { search: async (request) => (searched.push(request), [passage]) },
      { listKnowledgeBases: async (tenantId) => bases.map((kbId) => ({ tenantId, kbId, chunkSize: 1_000, chunkOverlap: 100, createdAt: 0 })) },
    );
    return { search, searched };
  }

  it("searches every knowledge base of the tenant when the request names none", async () => {
    const { search, searched } = setup(['travel', 'hr']);
    expect(await search.search({ tenantId: 'acme', query: 'west lake', limit: 3 })).toEqual([passage]);
    expect(searched).toEqual([{ tenantId: 'acme', kbIds: ['travel', 'hr'], query: 'west lake', limit: 3 }]);
  });

  it('searches only the named knowledge bases, and nothing for a tenant without any', async () => {
    const named = setup(['travel', 'hr']);
    await named.search.search({ tenantId: 'acme', kbIds: ['hr'], query: 'leave', limit: 3 });
    expect(named.searched[0]?.kbIds).toEqual(['hr']);
    const empty = setup([]);
    expect(await empty.search.search({ tenantId: 'acme', query: 'anything', limit: 3 })).toEqual([]);
    expect(empty.searched).toEqual([]);
  });
});
