import { hostname } from 'node:os';
import { z } from 'zod';
import { embeddingsEnv } from '@aip/embeddings';
import { knowledgeStoreEnv } from '@aip/knowledge';
import { baseEnvSchema, loadEnv } from '@aip/runtime';

export const inferenceEnvSchema = baseEnvSchema.extend({
  // The knowledge base answers are grounded on: the same store and embedding model as knowledge-ingest.
  ...knowledgeStoreEnv.shape,
  ...embeddingsEnv,
  // The images of requests, stored by access (ADR 0028): the same directory.
  PORT: z.coerce.number().int().min(0).max(65535).default(3002),
  /** Requests this worker generates at once; it never takes more from the broker. */
  INFERENCE_SLOTS: z.coerce.number().int().min(1).max(1024).default(8),
  /** Unique per worker; it names the worker in the registry and in task records. */
  WORKER_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits, ".", "_", ":" and "-" only').default(`${hostname()}-${process.pid}`),
  /** A worker that has not reported for this long counts as gone: its sessions move, its lane is drained. */
  HEARTBEAT_TTL_MS: z.coerce.number().int().min(1_000).max(120_000).default(10_000),
  /** Model routing document (JSON): aliases → ordered providers. Default: the extractive responder only. */
  MODEL_ROUTING: z.string().optional(),
  /** Completion tokens budgeted for history when assembling the prompt. */
  HISTORY_TOKEN_BUDGET: z.coerce.number().int().min(0).default(2_000),
  /**
   * What becomes of the turns of a conversation that leave the prompt's budget (ADR 0029): `model`
   * (default) — after the answer, the request's chat model folds them into the conversation's
   * summary, which later prompts carry; `off` — a marker says how many are left out. Models of
   * the extractive kind only: always the marker.
   */
  HISTORY_SUMMARY: z.enum(['model', 'off']).default('model'),
  /** How long writing a summary may take (it runs after the answer, off the request's path). */
  HISTORY_SUMMARY_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).default(30_000),
  /** Flush token deltas to the task stream at least this often. */
  DELTA_FLUSH_MS: z.coerce.number().int().min(1).max(1_000).default(20),
  /**
   * Invisible duration of an admitted request while a worker holds it, renewed every third of it.
   * It is how long a request caught by a worker's crash waits before another worker takes it:
   * 10 s is the least the proxy accepts by default (`minInvisibleTimeMillsForRecv`). A 5 s lease
   * on a proxy configured for it met the 10 s aim but lost requests in the chaos suite
   * (docs/reliability.md): not adopted.
   */
  LEASE_MS: z.coerce.number().int().min(10_000).default(10_000),
  /**
   * How long a request whose worker died waits for the broker's redelivery before it is ended as
   * failed (503 `worker_lost`, retryable). A worker that dies on a request's last delivery leaves
   * nothing to wait for: that request ends one lease after the worker's last heartbeat.
   */
  RUN_REDELIVERY_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
  /** Passages retrieved from the knowledge base per request (0 turns retrieval off). */
  RAG_TOP_K: z.coerce.number().int().min(0).max(20).default(4),
  /** Longest wait for the model to rewrite a follow-up into a standalone search query. */
  RAG_REWRITE_TIMEOUT_MS: z.coerce.number().int().min(100).default(3_000),
});

export type InferenceEnv = z.infer<typeof inferenceEnvSchema>;

export const loadInferenceEnv = () => loadEnv(inferenceEnvSchema);
