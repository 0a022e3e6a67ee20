import { z } from 'zod';
import { embeddingsEnv } from '@aip/embeddings';
import { baseEnvSchema, loadEnv } from '@aip/runtime';

export const accessEnvSchema = baseEnvSchema.extend({
  /**
   * Browser origins allowed to call this API (CORS), comma-separated; `*` = any. The web page is
   * served by rtc-push (another origin). Keys travel in the Authorization header, never in cookies.
   */
  CORS_ORIGINS: z.string().default('http://localhost:3005,http://127.0.0.1:3005').transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean)),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Bearer token of the admin API (keys). Required: there is no default admin secret. */
  ADMIN_TOKEN: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters'),
  /** Largest accepted request body: room for one image of MAX_IMAGE_BYTES inline (base64 is 4/3 of it). */
  MAX_BODY_BYTES: z.coerce.number().int().min(1_024).default(20 * 1_048_576),
  /**
   * Largest request body once its inline images are set aside (they go to the claim check): what
   * travels on the broker stays far below its 4 MiB message limit.
   */
  MAX_TEXT_BODY_BYTES: z.coerce.number().int().min(1_024).default(1_048_576),
  /** Image parts in one chat request at most. */
  MAX_IMAGES: z.coerce.number().int().min(0).max(64).default(8),
  /** Largest image, decoded, of an inline (`data:`) image part. */
  MAX_IMAGE_BYTES: z.coerce.number().int().min(1).default(10 * 1_048_576),
  // Inline images are stored here and the request carries references (ADR 0028).
  MAX_MESSAGES: z.coerce.number().int().min(1).default(256),
  DEFAULT_MAX_TOKENS: z.coerce.number().int().min(1).default(512),
  /** How long a request may wait for admission (deadline queue) before it is rejected. */
  ADMISSION_DEADLINE_MS: z.coerce.number().int().min(100).default(30_000),
  /** Model aliases served (the inference workers' routing document decides the providers). */
  MODELS: z.string().default('extractive').transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  /** Sensitive words (comma-separated), matched case-insensitively in requests and answers. */
  SENSITIVE_WORDS: z.string().default('').transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  /** What a request containing one gets: refused (400) or masked before it goes on. Answers are always masked. */
  SENSITIVE_WORDS_INPUT: z.enum(['block', 'mask']).default('block'),
  /**
   * Admit a request here, on the rate-limiter's own script and terms, when it can go at once: one
   * broker hop to the workers instead of two (ADR 0025). `false`: every request goes through the
   * limiter's topic.
   */
  ADMISSION_FAST_PATH: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /** How long a submission may wait for the broker before the client gets a 503. */
  PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  /** Client-facing wait for a synchronous completion. */
  SYNC_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(600_000),
  /** How long a stored response (`POST /v1/responses`, `store` true) is kept for GET and chaining: OpenAI's 30 days. */
  RESPONSES_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  // POST /v1/embeddings: the platform's embedding model (EMBEDDINGS_PROVIDER, …), loaded on first use.
  ...embeddingsEnv,
  /** The model name clients ask `/v1/embeddings` for, listed by `/v1/models`. */
  EMBEDDINGS_MODEL_ALIAS: z.string().min(1).max(128).default('all-minilm-l6-v2'),
  /** Texts in one `/v1/embeddings` request at most. */
  EMBEDDINGS_MAX_INPUTS: z.coerce.number().int().min(1).max(2_048).default(256),
  /**
   * embedded: sessions of the model, in worker threads (ADR 0026): access's event loop is never
   * blocked by the model. Default 1.
   */
  EMBEDDINGS_SESSIONS: z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().min(1).max(64).default(1)),
  /**
   * The usage ledger's PostgreSQL (`postgres://…`). Unset: PGlite, Postgres inside this process
   * (USAGE_DB_DIR, else in memory) — for `npm start` and tests, one access instance.
   */
  DATABASE_URL: z.string().url().optional(),
  /**
   * `off`: this instance writes no usage rows (consumes no lifecycle events) — for replicas that
   * should only serve, or to measure the request path without the ledger. Reports still read it.
   */
  USAGE_LEDGER: z.enum(['on', 'off']).default('on'),
  /**
   * PGlite's data directory when DATABASE_URL is unset (`npm start`: .runtime/usage-ledger); empty:
   * in memory, lost at restart. One process per directory: replicas need DATABASE_URL.
   */
  USAGE_DB_DIR: z.string().default(''),
  /**
   * How often spend budgets whose Redis counters are gone (a Redis loss, or a new period) are taken
   * up again from the usage ledger.
   */
  BUDGET_SEED_MS: z.coerce.number().int().min(100).default(30_000),
  /** Whole months of usage kept; older monthly partitions are dropped (checked hourly). */
  USAGE_RETENTION_MONTHS: z.coerce.number().int().min(1).max(120).default(13),
  /** The start-up model routing (as the workers'), for provider models and prices until a routing document is written. */
  MODEL_ROUTING: z.string().optional(),
});

export type AccessEnv = z.infer<typeof accessEnvSchema>;

export const loadAccessEnv = () => loadEnv(accessEnvSchema);
