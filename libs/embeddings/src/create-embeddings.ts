import type { Embeddings } from '@langchain/core/embeddings';
import type { Logger } from 'pino';
import { EmbeddingModelError } from './embedding-model.error.ts';
import { validateEmbeddingsConfig, type EmbeddingsConfig } from './embeddings.config.ts';
import { MiniLmEmbeddings } from './minilm.embeddings.ts';
import { OpenAICompatibleEmbeddings } from './openai-compatible.embeddings.ts';

/** What the rest of the platform codes against: a LangChain Embeddings plus what a store must know. */
export interface EmbeddingModel {
  readonly embeddings: Embeddings;
  /** Model + variant + version (+ endpoint): cached vectors are reusable exactly when it is equal. */
  readonly modelId: string;
  readonly dimension: number;
  /**
   * Embedding calls worth having in flight at once: embedded, the number of sessions (1 in
   * process); openai, a few concurrent requests. A caller with more texts than one call keeps
   * this many calls going (IngestPipeline's `embedConcurrency`).
   */
  readonly parallelism: number;
}

/** Requests a caller keeps in flight to an OpenAI-compatible endpoint (`EmbeddingModel.parallelism`). */
const OPENAI_PARALLEL_REQUESTS = 4;

/** Text embedded once to learn an endpoint's vector length. */
const PROBE_TEXT = 'dimension probe';

/** Base URL without credentials, query or trailing slash: safe to log, stable as part of an id. */
export function endpointOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
}

/**
 * Builds the configured embedding model. Embedded: ensures the model files (a Maven fetch the first
 * time on a machine, a checksum check afterwards) and loads the ONNX session. OpenAI-compatible:
 * builds the client and, unless `dimension` is given, embeds a probe once to learn the dimension
 * (so a wrong URL, model or key fails at start-up rather than at the first document).
 */
export async function createEmbeddings(config: EmbeddingsConfig, options: { logger?: Logger } = {}): Promise<EmbeddingModel> {
  validateEmbeddingsConfig(config);
  const logger = options.logger;
  if (config.provider === 'embedded') {
    const embeddings = await MiniLmEmbeddings.fromCache({
      ...(config.modelsDir !== undefined ? { modelsDir: config.modelsDir } : {}),
      ...(config.model !== undefined ? { model: config.model } : {}),
      ...(config.batchSize !== undefined ? { batchSize: config.batchSize } : {}),
      ...(config.threads !== undefined ? { threads: config.threads } : {}),
      ...(config.sessions !== undefined ? { sessions: config.sessions } : {}),
      log: (line) => logger?.info(line),
      onSessionError: (error) => logger?.warn({ err: error }, 'an embedding session failed; it is replaced'),
    });
    logger?.info({ provider: 'embedded', modelId: embeddings.modelId, dimension: embeddings.dimension, batchSize: embeddings.batchSize, sessions: config.sessions ?? 'in process' }, 'embedding model ready');
    return { embeddings, modelId: embeddings.modelId, dimension: embeddings.dimension, parallelism: embeddings.parallelism };
  }

  const { url, model } = config;
  // validateEmbeddingsConfig guarantees both for the openai provider; this narrows the types.
  if (!url || !model) throw new EmbeddingModelError('invalid_config', 'EMBEDDINGS_URL and EMBEDDINGS_MODEL are required for the openai provider');
  const embeddings = new OpenAICompatibleEmbeddings({
    url,
    model,
    ...(config.apiKey !== undefined ? { apiKey: config.apiKey } : {}),
    ...(config.batchSize !== undefined ? { batchSize: config.batchSize } : {}),
    ...(config.dimension !== undefined ? { dimension: config.dimension } : {}),
  });
  let dimension = config.dimension;
  if (dimension === undefined) {
    try {
      dimension = (await embeddings.embedQuery(PROBE_TEXT)).length;
    } catch (error) {
      throw new EmbeddingModelError(
        'probe_failed',
        `could not embed a probe with model ${model} at ${endpointOf(url)} to learn its dimension: ${(error as Error).message}` +
          ' (check EMBEDDINGS_URL, EMBEDDINGS_MODEL and EMBEDDINGS_API_KEY, or set EMBEDDINGS_DIMENSION to start without a probe)',
        { cause: error },
      );
    }
    embeddings.expectedDimension = dimension;
  }
  const modelId = `openai:${model}@${endpointOf(url)}`;
  logger?.info({ provider: 'openai', modelId, dimension }, 'embedding model ready');
  // An endpoint serves concurrent requests; a few in flight keep it busy without flooding it.
  return { embeddings, modelId, dimension, parallelism: OPENAI_PARALLEL_REQUESTS };
}
