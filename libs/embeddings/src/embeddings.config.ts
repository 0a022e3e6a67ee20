import { z } from 'zod';
import { EmbeddingModelError } from './embedding-model.error.ts';
import { DEFAULT_EMBEDDED_MODEL, EMBEDDED_MODELS } from './model-artifact.ts';

export type EmbeddingsProvider = 'embedded' | 'openai';

export interface EmbeddingsConfig {
  /** `embedded`: all-MiniLM-L6-v2 in process; `openai`: any OpenAI-compatible /v1/embeddings endpoint. */
  provider: EmbeddingsProvider;
  /** openai: base URL including the version path, e.g. https://api.openai.com/v1 or http://ollama:11434/v1 */
  url?: string;
  /** openai: the model name (required). embedded: the variant (default all-minilm-l6-v2; or all-minilm-l6-v2-q). */
  model?: string;
  /** openai: bearer key; local servers often need none. */
  apiKey?: string;
  /** embedded: model cache folder (default <repo>/.runtime/models). */
  modelsDir?: string;
  /** Texts per model run (embedded) or per HTTP request (openai). */
  batchSize?: number;
  /** embedded: onnxruntime intra-op threads (default: one per physical core; 1 per session with `sessions`). */
  threads?: number;
  /**
   * embedded: ONNX sessions in worker threads, running that many calls at once (see
   * MiniLmEmbeddings `sessions`); default: one session in the calling thread.
   */
  sessions?: number;
  /** openai: the vector length, when known; otherwise discovered by embedding a probe once at start. */
  dimension?: number;
}

/** Unset and empty are the same thing for an optional variable (`FOO=` in a .env file). */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

/**
 * Environment fields for an app's schema: `baseEnvSchema.extend({ ...embeddingsEnv })`. The defaults
 * run the embedded model; `embeddingsConfigOf(env)` turns the parsed values into an EmbeddingsConfig.
 */
export const embeddingsEnv = {
  EMBEDDINGS_PROVIDER: z.enum(['embedded', 'openai']).default('embedded'),
  /** openai: base URL of the OpenAI-compatible API (with /v1). */
  EMBEDDINGS_URL: optional(z.url({ protocol: /^https?$/, error: 'an http(s) URL, e.g. http://127.0.0.1:11434/v1' })),
  /** openai: model name (required); embedded: all-minilm-l6-v2 (default) or all-minilm-l6-v2-q. */
  EMBEDDINGS_MODEL: optional(z.string().trim().min(1)),
  EMBEDDINGS_API_KEY: optional(z.string()),
  /** openai: vector length; skips the start-up probe. */
  EMBEDDINGS_DIMENSION: optional(z.coerce.number().int().min(1).max(65_536)),
  EMBEDDINGS_BATCH_SIZE: optional(z.coerce.number().int().min(1).max(2_048)),
  EMBEDDINGS_THREADS: optional(z.coerce.number().int().min(1).max(256)),
  /** embedded: model sessions in worker threads (calls run at once); unset: one session in the main thread. */
  EMBEDDINGS_SESSIONS: optional(z.coerce.number().int().min(1).max(64)),
  /** embedded: where the model files are cached (default <repo>/.runtime/models). */
  MODELS_DIR: optional(z.string().min(1)),
};

/** The fields as a schema of their own (tools and tests). */
export const embeddingsEnvSchema = z.object(embeddingsEnv);
export type EmbeddingsEnv = z.infer<typeof embeddingsEnvSchema>;

/** Checks what the types cannot: which fields each provider needs. Throws naming the variable. */
export function validateEmbeddingsConfig(config: EmbeddingsConfig): void {
  const problems: string[] = [];
  if (config.provider === 'openai') {
    if (!config.url) problems.push('EMBEDDINGS_URL is required when EMBEDDINGS_PROVIDER=openai (base URL with /v1)');
    if (!config.model) problems.push('EMBEDDINGS_MODEL is required when EMBEDDINGS_PROVIDER=openai (the embedding model name)');
  } else if (config.provider === 'embedded') {
    if (config.model !== undefined && !EMBEDDED_MODELS[config.model]) {
      problems.push(`EMBEDDINGS_MODEL=${config.model} is not an embedded model; accepted: ${Object.keys(EMBEDDED_MODELS).join(', ')}`);
    }
    if (config.url) problems.push('EMBEDDINGS_URL is only used with EMBEDDINGS_PROVIDER=openai; unset it or set the provider');
  } else {
    problems.push(`EMBEDDINGS_PROVIDER=${String(config.provider)} is not supported; accepted: embedded, openai`);
  }
  for (const [name, value] of [['EMBEDDINGS_BATCH_SIZE', config.batchSize], ['EMBEDDINGS_THREADS', config.threads], ['EMBEDDINGS_SESSIONS', config.sessions], ['EMBEDDINGS_DIMENSION', config.dimension]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) problems.push(`${name}=${value} must be a positive integer`);
  }
  if (problems.length > 0) throw new EmbeddingModelError('invalid_config', `invalid embeddings configuration:\n  ${problems.join('\n  ')}`);
}

/** Turns the parsed environment into the config of createEmbeddings(); throws naming a bad variable. */
export function embeddingsConfigOf(env: Partial<EmbeddingsEnv>): EmbeddingsConfig {
  const provider = env.EMBEDDINGS_PROVIDER ?? 'embedded';
  const config: EmbeddingsConfig = {
    provider,
    ...(env.EMBEDDINGS_URL !== undefined ? { url: env.EMBEDDINGS_URL } : {}),
    model: env.EMBEDDINGS_MODEL ?? (provider === 'embedded' ? DEFAULT_EMBEDDED_MODEL : undefined),
    ...(env.EMBEDDINGS_API_KEY !== undefined ? { apiKey: env.EMBEDDINGS_API_KEY } : {}),
    ...(env.MODELS_DIR !== undefined ? { modelsDir: env.MODELS_DIR } : {}),
    ...(env.EMBEDDINGS_BATCH_SIZE !== undefined ? { batchSize: env.EMBEDDINGS_BATCH_SIZE } : {}),
    ...(env.EMBEDDINGS_THREADS !== undefined ? { threads: env.EMBEDDINGS_THREADS } : {}),
    ...(env.EMBEDDINGS_SESSIONS !== undefined ? { sessions: env.EMBEDDINGS_SESSIONS } : {}),
    ...(env.EMBEDDINGS_DIMENSION !== undefined ? { dimension: env.EMBEDDINGS_DIMENSION } : {}),
  };
  if (config.model === undefined) delete config.model;
  validateEmbeddingsConfig(config);
  return config;
}
