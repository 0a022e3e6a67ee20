import { OpenAIEmbeddings } from '@langchain/openai';

export interface OpenAICompatibleEmbeddingsOptions {
  /** Base URL including the version path, e.g. https://api.openai.com/v1 or http://vllm:8000/v1 */
  url: string;
  model: string;
  /** Local servers often need none; a placeholder is sent then (and OPENAI_API_KEY is never read). */
  apiKey?: string;
  /** Texts per HTTP request (default 512; OpenAI accepts up to 2048). */
  batchSize?: number;
  /** Vector length every response must have, when known; a different one fails loudly. */
  dimension?: number;
  /** Retries of a failed request, with exponential backoff (default 3). */
  maxRetries?: number;
  /** Per-request timeout in ms (default 60 s). */
  timeoutMs?: number;
}

/**
 * Any OpenAI-compatible embeddings endpoint (OpenAI, Ollama, vLLM, TEI, DashScope, ...) through
 * LangChain's OpenAIEmbeddings. Asks for float vectors (the openai SDK otherwise asks for base64,
 * which several compatible servers do not implement), keeps newlines (modern models want them),
 * and checks every vector's length once the dimension is known: a store must never receive
 * vectors of two sizes.
 */
export class OpenAICompatibleEmbeddings extends OpenAIEmbeddings {
  expectedDimension: number | undefined;

  constructor(options: OpenAICompatibleEmbeddingsOptions) {
    super({
      model: options.model,
      apiKey: options.apiKey ?? 'not-needed',
      configuration: { baseURL: options.url },
      encodingFormat: 'float',
      stripNewLines: false,
      batchSize: options.batchSize ?? 512,
      maxRetries: options.maxRetries ?? 3,
      timeout: options.timeoutMs ?? 60_000,
    });
    this.expectedDimension = options.dimension;
  }

  override async embedDocuments(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const vectors = await super.embedDocuments(texts);
    if (vectors.length !== texts.length) {
      throw new Error(`${this.model}: the endpoint returned ${vectors.length} embeddings for ${texts.length} texts`);
    }
    vectors.forEach((vector) => this.check(vector));
    return vectors;
  }

  override async embedQuery(text: string): Promise<number[]> {
    return this.check(await super.embedQuery(text));
  }

  private check(vector: number[]): number[] {
    if (!Array.isArray(vector) || vector.length === 0) throw new Error(`${this.model}: the endpoint returned an empty embedding`);
    if (this.expectedDimension !== undefined && vector.length !== this.expectedDimension) {
      throw new Error(`${this.model}: the endpoint returned a ${vector.length}-dimensional embedding, expected ${this.expectedDimension}`);
    }
    return vector;
  }
}
