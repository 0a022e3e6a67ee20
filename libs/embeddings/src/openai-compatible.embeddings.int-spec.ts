import { startMockEmbeddings, type MockEmbeddings } from '../test/mock-embeddings.server.ts';
import { createEmbeddings } from './create-embeddings.ts';
import { EmbeddingModelError } from './embedding-model.error.ts';

// LangChain's OpenAIEmbeddings, through our adapter, against a local /v1/embeddings server.
const servers: MockEmbeddings[] = [];
async function server(options: Parameters<typeof startMockEmbeddings>[0] = {}): Promise<MockEmbeddings> {
  const started = await startMockEmbeddings(options);
  servers.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('OpenAI-compatible embeddings', () => {
  it('discovers the dimension with one probe, then embeds documents in batches and in order', async () => {
    const upstream = await server({ dimension: 12, apiKey: 'sk-test' });
    const model = await createEmbeddings({ provider: 'openai', url: upstream.url, model: 'embed-small', apiKey: 'sk-test', batchSize: 2 });
    expect(model.dimension).toBe(12);
    expect(upstream.requests).toHaveLength(1);

    const texts = ['alpha', 'beta\nwith a newline', 'gamma', 'delta', 'epsilon'];
    const vectors = await model.embeddings.embedDocuments(texts);
    expect(vectors).toEqual(texts.map((text) => upstream.vectorOf(text)));
    const batches = upstream.requests.slice(1);
    expect(batches.map((request) => request.body.input)).toEqual([['alpha', 'beta\nwith a newline'], ['gamma', 'delta'], ['epsilon']]);
    for (const request of upstream.requests) {
      expect(request.authorization).toBe('Bearer sk-test');
      expect(request.body).toMatchObject({ model: 'embed-small', encoding_format: 'float' });
    }
    expect(await model.embeddings.embedQuery('alpha')).toEqual(upstream.vectorOf('alpha'));
  });

  it('fails at start-up with the endpoint (and never the key) when the probe is refused', async () => {
    const upstream = await server({ apiKey: 'sk-right' });
    const error = await createEmbeddings({ provider: 'openai', url: upstream.url, model: 'embed-small', apiKey: 'sk-wrong-secret' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EmbeddingModelError);
    expect(error).toMatchObject({ code: 'probe_failed' });
    expect((error as Error).message).toContain(`model embed-small at ${upstream.url}`);
    expect((error as Error).message).toMatch(/401/);
    expect((error as Error).message).not.toContain('sk-wrong-secret');
  });

  it('refuses vectors whose length differs from the configured dimension', async () => {
    const upstream = await server({ dimension: 8 });
    const model = await createEmbeddings({ provider: 'openai', url: upstream.url, model: 'embed-small', dimension: 16 });
    expect(upstream.requests).toHaveLength(0);
    await expect(model.embeddings.embedDocuments(['one'])).rejects.toThrow(/returned a 8-dimensional embedding, expected 16/);
  });
});
