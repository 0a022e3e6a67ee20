import { hostname } from 'node:os';
import { z } from 'zod';
import { embeddingsEnv } from '@aip/embeddings';
import { baseEnvSchema, loadEnv } from '@aip/runtime';

const ms = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

export const intentSchedulerEnvSchema = baseEnvSchema.extend({
  /** The embedding model of the default classifier (EMBEDDINGS_*; default all-MiniLM-L6-v2 in process). */
  ...embeddingsEnv,
  PORT: z.coerce.number().int().min(0).max(65535).default(3004),
  INSTANCE_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  /** How often a replica looks for work. Short for the embedded demo; seconds to a minute in production. */
  INTENT_TICK_MS: ms(3_000, 100),
  /** Users are split into this many shards by hash; one replica at a time works a shard. Changing it moves users between shards (safe: locks and dedupe keys still guard). */
  INTENT_SHARDS: z.coerce.number().int().min(1).max(4_096).default(16),
  /** Lifetime of a shard lock; renewed while the shard is worked, so it only matters when a replica dies. */
  INTENT_LOCK_MS: ms(15_000, 1_000),
  /** Sessions active within this window are considered; older ones leave the index. */
  INTENT_ACTIVITY_WINDOW_MS: ms(24 * 3_600_000, 1_000),
  /** At most this many sessions per shard and tick (the most recently active first). */
  INTENT_SESSIONS_PER_SHARD: z.coerce.number().int().min(1).default(500),
  /** Recent turns read from the session history for analysis. */
  INTENT_RECENT_TURNS: z.coerce.number().int().min(1).max(50).default(8),
  /** A session whose user spoke is not pushed to while its answer is pending (at most this long, in case the end event is lost). */
  INTENT_PENDING_MAX_MS: ms(5 * 60_000, 1_000),
  /** Interests recorded from classified turns live this long (new-content notices match them). */
  INTENT_INTEREST_TTL_MS: ms(30 * 24 * 3_600_000, 1_000),
  /** New-content notices go to at most this many users per matching term (the most recently interested). */
  INTENT_NOTICE_USERS_PER_TERM: z.coerce.number().int().min(1).default(1_000),
  /** Optional OpenAI-compatible chat model for structured-output classification; unset = embedding similarity. */
  INTENT_LLM_BASE_URL: z.string().url().optional(),
  INTENT_LLM_MODEL: z.string().min(1).optional(),
  INTENT_LLM_API_KEY: z.string().optional(),
  INTENT_LLM_TIMEOUT_MS: ms(10_000, 100),
});

export type IntentSchedulerEnv = z.infer<typeof intentSchedulerEnvSchema>;

export const loadIntentSchedulerEnv = (env: NodeJS.ProcessEnv = process.env) => loadEnv(intentSchedulerEnvSchema, env);
