import { createEmbeddings, endpointOf } from './create-embeddings.ts';
import { EmbeddingModelError } from './embedding-model.error.ts';
import { MiniLmEmbeddings } from './minilm.embeddings.ts';
import { OpenAICompatibleEmbeddings } from './openai-compatible.embeddings.ts';

describe('createEmbeddings (no model download, no network)', () => {
  it('builds the OpenAI-compatible adapter without a probe when the dimension is given', async () => {
    // Port 9 (discard) on loopback: a probe would fail, so success proves no request was made.
    const model = await createEmbeddings({ provider: 'openai', url: 'http://127.0.0.1:9/v1', model: 'text-embedding-3-small', apiKey: 'sk-secret', dimension: 1536 });
    expect(model.embeddings).toBeInstanceOf(OpenAICompatibleEmbeddings);
    expect(model.dimension).toBe(1536);
    expect(model.modelId).toBe('openai:text-embedding-3-small@http://127.0.0.1:9/v1');
    // An endpoint serves concurrent requests: callers keep a few in flight.
    expect(model.parallelism).toBe(4);
  });

  it('keeps credentials and query strings out of the modelId', async () => {
    const model = await createEmbeddings({ provider: 'openai', url: 'https://user:pass@api.example.com/v1/?key=abc', model: 'm', dimension: 3 });
    expect(model.modelId).toBe('openai:m@https://api.example.com/v1');
    expect(endpointOf('http://h:8080/v1///')).toBe('http://h:8080/v1');
  });

  it('rejects an incomplete openai config before doing anything', async () => {
    await expect(createEmbeddings({ provider: 'openai', model: 'm' })).rejects.toThrow(EmbeddingModelError);
    await expect(createEmbeddings({ provider: 'openai', model: 'm' })).rejects.toThrow(/EMBEDDINGS_URL is required/);
  });

  it('rejects an unknown embedded variant before fetching anything', async () => {
    await expect(createEmbeddings({ provider: 'embedded', model: 'bge-m3' })).rejects.toMatchObject({ code: 'invalid_config' });
  });
});

describe('MiniLmEmbeddings options', () => {
  const files = { onnxPath: '/nonexistent/model.onnx', vocabPath: '/nonexistent/tokenizer.json', modelId: 'x' };

  it('uses the variant defaults and loads nothing until first use', () => {
    const full = new MiniLmEmbeddings(files);
    expect(full).toMatchObject({ dimension: 384, batchSize: 16, maxTokens: 128, modelId: 'x' });
    // Quantized: one text per run, because batching changes its vectors.
    expect(new MiniLmEmbeddings({ ...files, model: 'all-minilm-l6-v2-q' }).batchSize).toBe(1);
  });

  it('rejects impossible settings with the name of the setting', () => {
    expect(() => new MiniLmEmbeddings({ ...files, batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    expect(() => new MiniLmEmbeddings({ ...files, threads: -1 })).toThrow(/threads must be a positive integer/);
    expect(() => new MiniLmEmbeddings({ ...files, maxTokens: 1024 })).toThrow(/maxTokens must be an integer in 2..512/);
  });

  it('fails the first embedding with the path when the model file is not there', async () => {
    await expect(new MiniLmEmbeddings(files).embedQuery('hello')).rejects.toThrow(/nonexistent/);
  });

  it('embeds an empty list without loading the model', async () => {
    await expect(new MiniLmEmbeddings(files).embedDocuments([])).resolves.toEqual([]);
  });

  it('runs in process by default and in worker sessions when asked; refuses impossible session counts', async () => {
    expect(new MiniLmEmbeddings(files).parallelism).toBe(1);
    const pooled = new MiniLmEmbeddings({ ...files, sessions: 3 });
    expect(pooled.parallelism).toBe(3);
    await pooled.close();
    expect(() => new MiniLmEmbeddings({ ...files, sessions: 0 })).toThrow(/sessions must be a positive integer/);
  });

  it('fails the first embedding in a session with the path when the model file is not there, and refuses a text that is not a string', async () => {
    const pooled = new MiniLmEmbeddings({ ...files, sessions: 1 });
    try {
      await expect(pooled.embedQuery('hello')).rejects.toThrow(/nonexistent/);
      await expect(pooled.embedDocuments([42 as unknown as string])).rejects.toThrow(/text 0 is number, not a string/);
    } finally {
      await pooled.close();
    }
  });
});
