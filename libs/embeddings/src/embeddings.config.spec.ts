import { z } from 'zod';
import { EmbeddingModelError } from './embedding-model.error.ts';
import { embeddingsConfigOf, embeddingsEnv, validateEmbeddingsConfig } from './embeddings.config.ts';

// What an app does: spread the fields into its schema and parse the environment.
const schema = z.object({ PORT: z.coerce.number().default(3000), ...embeddingsEnv });
const parse = (env: Record<string, string>) => schema.parse(env);

describe('embeddingsEnv + embeddingsConfigOf', () => {
  it('defaults to the embedded float32 MiniLM with no variables set', () => {
    expect(embeddingsConfigOf(parse({}))).toEqual({ provider: 'embedded', model: 'all-minilm-l6-v2' });
  });

  it('maps every variable of the OpenAI-compatible provider', () => {
    const config = embeddingsConfigOf(parse({
      EMBEDDINGS_PROVIDER: 'openai',
      EMBEDDINGS_URL: 'http://127.0.0.1:11434/v1',
      EMBEDDINGS_MODEL: 'nomic-embed-text',
      EMBEDDINGS_API_KEY: 'sk-test',
      EMBEDDINGS_DIMENSION: '768',
      EMBEDDINGS_BATCH_SIZE: '64',
    }));
    expect(config).toEqual({ provider: 'openai', url: 'http://127.0.0.1:11434/v1', model: 'nomic-embed-text', apiKey: 'sk-test', dimension: 768, batchSize: 64 });
  });

  it('takes the embedded variant, cache folder, threads and sessions', () => {
    const config = embeddingsConfigOf(parse({ EMBEDDINGS_MODEL: 'all-minilm-l6-v2-q', MODELS_DIR: '/var/cache/models', EMBEDDINGS_THREADS: '2', EMBEDDINGS_SESSIONS: '3' }));
    expect(config).toEqual({ provider: 'embedded', model: 'all-minilm-l6-v2-q', modelsDir: '/var/cache/models', threads: 2, sessions: 3 });
    expect(schema.safeParse({ EMBEDDINGS_SESSIONS: '0' }).success).toBe(false);
  });

  it('treats empty variables as unset', () => {
    expect(embeddingsConfigOf(parse({ EMBEDDINGS_URL: '', EMBEDDINGS_MODEL: '', MODELS_DIR: '', EMBEDDINGS_API_KEY: '' }))).toEqual({ provider: 'embedded', model: 'all-minilm-l6-v2' });
  });

  it('rejects an unknown provider and a non-http URL at parse time, naming the variable', () => {
    const provider = schema.safeParse({ EMBEDDINGS_PROVIDER: 'cohere' });
    expect(provider.success).toBe(false);
    expect(provider.error!.issues[0]!.path).toEqual(['EMBEDDINGS_PROVIDER']);
    const url = schema.safeParse({ EMBEDDINGS_PROVIDER: 'openai', EMBEDDINGS_URL: 'ftp://x/v1' });
    expect(url.success).toBe(false);
    expect(url.error!.issues[0]!.path).toEqual(['EMBEDDINGS_URL']);
    expect(schema.safeParse({ EMBEDDINGS_BATCH_SIZE: '0' }).success).toBe(false);
  });

  it('says which variables the openai provider is missing', () => {
    const attempt = () => embeddingsConfigOf(parse({ EMBEDDINGS_PROVIDER: 'openai' }));
    expect(attempt).toThrow(EmbeddingModelError);
    expect(attempt).toThrow(/EMBEDDINGS_URL is required[\s\S]*EMBEDDINGS_MODEL is required/);
  });

  it('names the accepted values for an unknown embedded model', () => {
    expect(() => embeddingsConfigOf(parse({ EMBEDDINGS_MODEL: 'text-embedding-3-small' }))).toThrow(
      /EMBEDDINGS_MODEL=text-embedding-3-small is not an embedded model; accepted: all-minilm-l6-v2-q, all-minilm-l6-v2/,
    );
  });

  it('refuses a URL for the embedded provider rather than silently ignoring it', () => {
    expect(() => embeddingsConfigOf(parse({ EMBEDDINGS_URL: 'http://127.0.0.1:9/v1' }))).toThrow(/EMBEDDINGS_URL is only used with EMBEDDINGS_PROVIDER=openai/);
  });
});

describe('validateEmbeddingsConfig (hand-built configs)', () => {
  it('rejects non-integer sizes', () => {
    expect(() => validateEmbeddingsConfig({ provider: 'embedded', batchSize: 0 })).toThrow(/EMBEDDINGS_BATCH_SIZE=0 must be a positive integer/);
    expect(() => validateEmbeddingsConfig({ provider: 'embedded', threads: 1.5 })).toThrow(/EMBEDDINGS_THREADS=1.5/);
    expect(() => validateEmbeddingsConfig({ provider: 'embedded', sessions: 0 })).toThrow(/EMBEDDINGS_SESSIONS=0 must be a positive integer/);
  });
});
