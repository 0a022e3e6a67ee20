import { hostname } from 'node:os';
import { z } from 'zod';
import { REALTIME_LIMITS } from '@aip/contracts';
import { baseEnvSchema, loadEnv } from '@aip/runtime';

export const rtcEnvSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3005),
  /** Names this instance in presence and its pub/sub channel; must be unique among running instances. */
  RTC_INSTANCE_ID: z.string().min(1).max(128).default(`${hostname()}-${process.pid}`),
  /** Pushes handled at once by this instance (different users in parallel, one user in order). */
  PUSH_CONCURRENCY: z.coerce.number().int().min(1).max(1_024).default(64),
  /** Unacked pushes kept per user; the oldest are dropped beyond it (a gap in `seq`). */
  INBOX_MAX: z.coerce.number().int().min(1).max(100_000).default(1_000),
  /** Inbox lifetime after its last push. */
  INBOX_TTL_S: z.coerce.number().int().min(60).default(7 * 86_400),
  /** How long a dedupeKey suppresses a second push. */
  DEDUPE_TTL_S: z.coerce.number().int().min(60).default(7 * 86_400),
  /** An unacked push is re-sent on an open connection after this long. */
  RESEND_AFTER_MS: z.coerce.number().int().min(100).default(10_000),
  /** Presence entries expire after this unless refreshed (refresh runs every third of it). */
  PRESENCE_TTL_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** Every connection re-reads its inbox this often, so a lost pub/sub doorbell delays but never loses a push (0 = off). */
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),
  /** Protocol pings; a socket that misses two pongs is terminated. */
  HEARTBEAT_MS: z.coerce.number().int().min(1_000).default(30_000),
  HELLO_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Bytes queued for one connection before it is closed as a slow consumer (4503). */
  MAX_BUFFERED_BYTES: z.coerce.number().int().min(1_024).default(1_048_576),
  MAX_FRAME_BYTES: z.coerce.number().int().min(1_024).max(REALTIME_LIMITS.maxFrameBytes).default(REALTIME_LIMITS.maxFrameBytes),
  MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).default(10),
  /** Connections one API key (with its realtime tokens) holds on this instance, whatever users it names. */
  MAX_CONNECTIONS_PER_KEY: z.coerce.number().int().min(1).default(1_000),
  MAX_CHATS_PER_CONNECTION: z.coerce.number().int().min(1).default(4),
  /** Chats running at once on this instance per user (socket and POST /v1/chat together) and per API key. */
  MAX_CHATS_PER_USER: z.coerce.number().int().min(1).default(8),
  MAX_CHATS_PER_KEY: z.coerce.number().int().min(1).default(100),
  /** Open connections and chats are checked this often: an expired token or a revoked key closes them (4401). */
  REVALIDATE_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
  /** Chat over the socket: model aliases served until the `routing` document exists (as access's MODELS), and request defaults. */
  MODELS: z.string().default('extractive').transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  /** Sensitive words until the `words` document exists, and what a request containing one gets (as access's). */
  SENSITIVE_WORDS: z.string().default('').transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  SENSITIVE_WORDS_INPUT: z.enum(['block', 'mask']).default('block'),
  DEFAULT_MODEL: z.string().default('extractive'),
  /** Where the web page finds access and knowledge-ingest (default: this host, ports 3000 and 3003). */
  ACCESS_PUBLIC_URL: z.string().url().optional(),
  KNOWLEDGE_PUBLIC_URL: z.string().url().optional(),
  DEFAULT_MAX_TOKENS: z.coerce.number().int().min(1).default(512),
  ADMISSION_DEADLINE_MS: z.coerce.number().int().min(100).default(30_000),
  /** Admit a chat at once on the rate-limiter's script and terms, as access does (ADR 0025); `false`: every chat goes through the limiter. */
  ADMISSION_FAST_PATH: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  CHAT_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(600_000),
  PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  /** Folder of the built web page served at `/` (empty = apps/web/dist, as `nx run @aip/web:build` leaves it). */
  WEB_DIR: z.string().default(''),
  /** How long shutdown waits for the consumer to drain. */
  DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
});

export type RtcEnv = z.infer<typeof rtcEnvSchema>;

export const loadRtcEnv = (env: NodeJS.ProcessEnv = process.env) => loadEnv(rtcEnvSchema, env);
