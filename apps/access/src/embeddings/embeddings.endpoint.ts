import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AdmitResult } from '@aip/rate-limit';
import { ApiError, httpErrors, parseRequest } from '@aip/runtime';
import { errors } from '../common/errors.ts';
import { rateLimitError, rateLimitHeaders } from '../common/rate-limit-headers.ts';
import type { Moderation } from '../moderation/moderation.service.ts';

/** The part of an embedding model the endpoint uses (`createEmbeddings` of @aip/embeddings gives one). */
export interface EmbeddingModelLike {
  readonly embeddings: {
    embedDocuments(texts: string[]): Promise<number[][]>;
    /** Word pieces of a text before truncation (the embedded model); absent for a remote endpoint. */
    countTokens?(text: string): Promise<number>;
    /** Longest input the model reads, [CLS] and [SEP] included (the embedded model). */
    readonly maxTokens?: number;
  };
  readonly dimension: number;
}

export interface EmbeddingsEndpointOptions {
  /** The name clients ask for (`model`), listed by `GET /v1/models`. */
  readonly alias: string;
  /** Texts in one request at most. */
  readonly maxInputs: number;
  /** Loads the model; called on the first request, and again after a load that failed. */
  readonly load: () => Promise<EmbeddingModelLike>;
  readonly moderation: Moderation;
  /** Told why a load failed (the client gets a 503 without the reason: it may name hosts or paths). */
  readonly onLoadError?: (error: unknown) => void;
  /** The key's rate limits (AdmissionFastPath of @aip/rate-limit), which count embeddings' requests and tokens as chats'. */
  readonly limits: EmbeddingLimits;
}

/** Reserves a request's tokens under the key's limits, and settles them once answered. */
export interface EmbeddingLimits {
  reserve(key: { tenantId: string; apiKeyId: string; policy?: unknown }, model: string, requestId: string, tokens: number): Promise<AdmitResult>;
  settle(reservationId: string, actualTokens: number): Promise<void>;
}

/** What an API key may do here: its tenant's model allow-list; its limits are its tenant's and its own. */
export interface EmbeddingsCaller {
  readonly id: string;
  readonly tenantId: string;
  readonly policy?: unknown;
  readonly models?: readonly string[] | undefined;
}

/** OpenAI's embeddings request; token arrays are refused with their own message before this. */
export const embeddingsRequestSchema = (maxInputs: number) =>
  z
    .object({
      model: z.string().min(1),
      input: z.union([z.string(), z.array(z.string()).max(maxInputs)], { error: 'must be a text or an array of texts' }),
      encoding_format: z.enum(['float', 'base64']).default('float'),
      dimensions: z.number().int().positive().optional(),
      user: z.string().max(256).optional(),
    })
    .strict();

/** OpenAI's embeddings answer: one vector per text, in input order (base64 float32 when asked). */
export const embeddingsResponseSchema = z
  .object({
    object: z.literal('list'),
    data: z.array(z.object({ object: z.literal('embedding'), index: z.number().int(), embedding: z.union([z.array(z.number()), z.string().meta({ description: 'base64 of little-endian float32 (encoding_format: base64)' })]) })),
    model: z.string(),
    usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
  })
  .meta({ id: 'EmbeddingList' });
export type EmbeddingsResponse = z.infer<typeof embeddingsResponseSchema>;

const isTokenArray = (input: unknown) => Array.isArray(input) && input.length > 0 && input.every((item) => typeof item === 'number' || (Array.isArray(item) && item.every((token) => typeof token === 'number')));

/** A vector as OpenAI's `encoding_format: base64` sends it: little-endian float32, base64. */
export function base64Vector(vector: readonly number[]): string {
  return Buffer.from(Float32Array.from(vector).buffer).toString('base64');
}

/**
 * `POST /v1/embeddings`, OpenAI's shape, on the platform's embedding model (the embedded MiniLM,
 * or the endpoint of EMBEDDINGS_PROVIDER=openai). Answered here, synchronously: an embedding is
 * one short model call, not a generation to queue. What it cannot honour is a 400 naming the
 * field: token arrays (our models tokenize text themselves), a `dimensions` other than the model's,
 * a text longer than the model reads (it would be cut silently); words on the list as for chat
 * (`block`: refused; `mask`: masked before embedding). A model that cannot be loaded is a 503,
 * tried again on the next request.
 */
export class EmbeddingsEndpoint {
  private loading: Promise<EmbeddingModelLike> | undefined;
  private readonly options: EmbeddingsEndpointOptions;

  constructor(options: EmbeddingsEndpointOptions) {
    this.options = options;
  }

  /** `onHeaders`: the key's x-ratelimit-* standing after this request, for the answer's headers. */
  async create(caller: EmbeddingsCaller, body: unknown, onHeaders?: (headers: Record<string, string>) => void): Promise<EmbeddingsResponse> {
    const { alias, maxInputs, moderation } = this.options;
    const input = body && typeof body === 'object' ? (body as { input?: unknown }).input : undefined;
    if (isTokenArray(input)) throw httpErrors.invalid('input: token arrays are not accepted; send text (the model tokenizes it itself).', 'input', 'unsupported_input');
    if (Array.isArray(input) && input.length > maxInputs) throw httpErrors.invalid(`input: at most ${maxInputs} texts per request, got ${input.length}.`, 'input');
    if (input === '' || (Array.isArray(input) && (input.length === 0 || input.includes('')))) throw httpErrors.invalid('input: a text must not be empty.', 'input');
    const request = parseRequest(embeddingsRequestSchema(maxInputs), body);
    if (request.model !== alias) throw new ApiError(404, `The model '${request.model}' does not exist; embeddings are served by '${alias}'.`, 'not_found_error', 'model_not_found', 'model');
    if (caller.models?.length && !caller.models.includes(alias)) throw new ApiError(403, `This API key may not use the model '${alias}'.`, 'permission_error', 'model_not_allowed', 'model');
    // Screened as a chat's messages are: refused (`block`) or masked (`mask`).
    const screened = moderation.screen((typeof request.input === 'string' ? [request.input] : request.input).map((content) => ({ content })));
    if (!screened) throw errors.contentPolicy('input');
    const texts = screened.map((item) => item.content);

    const model = await this.model();
    if (request.dimensions !== undefined && request.dimensions !== model.dimension) {
      throw httpErrors.invalid(`dimensions: '${alias}' makes vectors of ${model.dimension} dimensions; it cannot shorten them to ${request.dimensions}.`, 'dimensions', 'unsupported_dimensions');
    }
    const promptTokens = await this.countTokens(model, texts, typeof request.input === 'string');
    // Counted exactly (the tokens are known before the model runs), and refused at once when over:
    // an embedding is a short call, not a generation worth queueing for.
    const admission = await this.options.limits.reserve({ tenantId: caller.tenantId, apiKeyId: caller.id, policy: caller.policy }, alias, `emb-${randomUUID()}`, promptTokens);
    if (!admission.admitted) {
      const { reason, retryAfterMs, limit, remaining } = admission;
      const message = retryAfterMs < 0 ? `the request needs more tokens than the key's tokens-per-minute limit (${limit})` : `${reason.replaceAll('_', ' ')}: limit ${limit}, retry after ${Math.ceil(retryAfterMs / 1000)} s`;
      throw rateLimitError({ code: reason, message, ...(retryAfterMs >= 0 ? { retryAfterMs } : {}), limit, remaining });
    }
    let vectors: number[][];
    try {
      vectors = await model.embeddings.embedDocuments(texts);
    } finally {
      // The tokens were read either way; the slot is freed at once.
      await this.options.limits.settle(admission.reservationId, promptTokens);
    }
    onHeaders?.(rateLimitHeaders(admission.standing));
    return {
      object: 'list',
      data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: request.encoding_format === 'base64' ? base64Vector(vector) : vector })),
      model: alias,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  }

  /** Tokens of the texts as the model reads them; a text longer than the model reads is refused. */
  private async countTokens(model: EmbeddingModelLike, texts: readonly string[], single: boolean): Promise<number> {
    const { countTokens, maxTokens } = model.embeddings;
    // A remote endpoint counts for itself (and refuses what is too long): the estimate is for usage only.
    if (!countTokens) return texts.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
    const counts = await Promise.all(texts.map((text) => countTokens.call(model.embeddings, text)));
    const window = maxTokens === undefined ? undefined : maxTokens - 2;
    const over = window === undefined ? -1 : counts.findIndex((count) => count > window);
    if (over >= 0) {
      const at = single ? 'input' : `input[${over}]`;
      throw httpErrors.invalid(`${at} is ${counts[over]} tokens; '${this.options.alias}' reads at most ${window}. Split the text (the rest would be ignored).`, 'input', 'context_length_exceeded');
    }
    return counts.reduce((sum, count) => sum + Math.min(count, window ?? count) + 2, 0);
  }

  private model(): Promise<EmbeddingModelLike> {
    this.loading ??= this.options.load();
    return this.loading.catch((error: unknown) => {
      this.loading = undefined;
      this.options.onLoadError?.(error);
      throw new ApiError(503, `The embedding model '${this.options.alias}' is unavailable; retry shortly.`, 'service_unavailable', 'model_unavailable');
    });
  }
}
