import { z } from 'zod';
import { baseEnvSchema, loadEnv } from '@aip/runtime';

export const rateLimiterEnvSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  /** How often parked requests are retried and expired ones rejected. */
  QUEUE_PUMP_MS: z.coerce.number().int().min(5).max(5_000).default(50),
  /**
   * Most requests one API key may have parked in the deadline queue; more are refused at once
   * (429 with Retry-After). Parked requests hold their whole payload in Redis, so this bounds what
   * one key can make the shared Redis hold.
   */
  MAX_PARKED_PER_KEY: z.coerce.number().int().min(1).max(10_000).default(32),
  /** The start-up model routing (as the workers'), for the prices spend budgets reserve by until a routing document is written. */
  MODEL_ROUTING: z.string().optional(),
  /** Policy for keys that carry none (JSON RateLimitPolicy). */
  DEFAULT_POLICY: z.string().default('{"id":"default","requestsPerMinute":600,"tokensPerMinute":1000000,"maxConcurrent":64}'),
  /** Admit only while inference workers report free slots. */
  CHECK_WORKER_CAPACITY: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /**
   * Session affinity: a session's requests go to the worker that served it last (through that
   * worker's lane) while it is alive and at most AFFINITY_MAX_LOAD_GAP requests busier than the
   * least-loaded worker. Requests without a session are pulled by any worker either way.
   */
  SESSION_AFFINITY: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  AFFINITY_MAX_LOAD_GAP: z.coerce.number().int().min(0).max(1_000).default(2),
});

export type RateLimiterEnv = z.infer<typeof rateLimiterEnvSchema>;

export const loadRateLimiterEnv = () => loadEnv(rateLimiterEnvSchema);
