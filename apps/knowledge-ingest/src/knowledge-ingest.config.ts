import { resolve } from 'node:path';
import { z } from 'zod';
import { embeddingsEnv } from '@aip/embeddings';
import { DEFAULT_INGEST_LIMITS, knowledgeStoreEnv } from '@aip/knowledge';
import { baseEnvSchema, loadEnv } from '@aip/runtime';
import { objectStoreMappingsSchema } from './notifications/object-store.notification.ts';

const json = <S extends z.ZodType>(schema: S, name: string) =>
  z.string().transform((raw, ctx) => {
    try {
      return schema.parse(JSON.parse(raw)) as z.infer<S>;
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `${name} must be JSON: ${(error as Error).message}` });
      return z.NEVER;
    }
  });

export const knowledgeIngestEnvSchema = baseEnvSchema.extend({
  /**
   * Browser origins allowed to call this API (CORS), comma-separated; `*` = any. The web page is
   * served by rtc-push (another origin). Keys travel in the Authorization header, never in cookies.
   */
  CORS_ORIGINS: z.string().default('http://localhost:3005,http://127.0.0.1:3005').transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean)),
  ...knowledgeStoreEnv.shape,
  ...embeddingsEnv,
  /**
   * embedded: model sessions, each in a worker thread of its own (one core each). This service
   * embeds in bulk: documents applied at once share batches, and this many batches run at once.
   * Each session holds a copy of the model (~90 MB float32). Default 2.
   */
  EMBEDDINGS_SESSIONS: z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().min(1).max(64).default(2)),
  PORT: z.coerce.number().int().min(0).max(65535).default(3003),
  /** Uploaded files wait here (as `local:` content references) until their change is applied. */
  KNOWLEDGE_DATA_DIR: z.string().default(resolve('.runtime/knowledge')),
  /** Largest uploaded file (multipart); larger uploads get a 413. */
  MAX_UPLOAD_BYTES: z.coerce.number().int().min(1_024).default(50 * 1024 * 1024),
  /** Largest JSON request body (inline documents). */
  MAX_JSON_BYTES: z.coerce.number().int().min(1_024).default(5 * 1024 * 1024),
  /** Chunking of a knowledge base created without settings (and of bases first seen in a change event). */
  DEFAULT_CHUNK_SIZE: z.coerce.number().int().min(64).max(8_000).default(1_000),
  DEFAULT_CHUNK_OVERLAP: z.coerce.number().int().min(0).max(4_000).default(150),
  /** Texts per embedding call. */
  EMBED_BATCH_SIZE: z.coerce.number().int().min(1).max(1_024).default(32),
  /**
   * Changes applied at once (different documents; one document's changes are always in order),
   * over all tenants, taken round-robin across tenants. Also the number of parse worker threads.
   */
  INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** Changes of one tenant applied at once (≤ INGEST_CONCURRENCY; default INGEST_CONCURRENCY: no reservation for others). */
  INGEST_TENANT_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
  /**
   * Changes held from the broker at once (≥ INGEST_CONCURRENCY): those not being applied wait,
   * leases renewed, for their tenant's turn, so another tenant's change received later can go first.
   */
  INGEST_PREFETCH: z.coerce.number().int().min(1).max(256).default(32),
  /** A document still being parsed and chunked after this long fails `parse_timeout` (its worker thread is killed). */
  PARSE_TIMEOUT_MS: z.coerce.number().int().min(100).default(120_000),
  /** JS heap of each parse worker thread, in MiB: a document that needs more fails `too_large`. */
  PARSE_MEMORY_MB: z.coerce.number().int().min(32).max(16_384).default(512),
  /** Pages of a PDF; a longer one fails `too_large` before any page is read. */
  MAX_PDF_PAGES: z.coerce.number().int().min(1).default(DEFAULT_INGEST_LIMITS.maxPdfPages),
  /** Chunks of one document version; more fail `too_large` before anything is embedded. */
  MAX_CHUNKS_PER_DOCUMENT: z.coerce.number().int().min(1).default(DEFAULT_INGEST_LIMITS.maxChunks),
  /** Uploads (HTTP documents and object-store notifications) of one tenant accepted and not yet applied; more get 429. */
  UPLOAD_QUOTA_DOCUMENTS: z.coerce.number().int().min(1).default(50),
  /** Bytes of one tenant's uploads stored and not yet applied; more get 429 (413 for one file larger than the whole quota). */
  UPLOAD_QUOTA_BYTES: z.coerce.number().int().min(1_024).default(512 * 1024 * 1024),
  /** An upload stops counting against its tenant's quota after this long even if it was never applied (crash, lost message). */
  UPLOAD_QUOTA_TTL_MS: z.coerce.number().int().min(1_000).default(6 * 60 * 60 * 1_000),
  LEASE_MS: z.coerce.number().int().min(10_000).default(60_000),
  PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  /**
   * Object-store buckets (and key prefixes) mapped to knowledge bases, for
   * `POST /v1/notifications/object-store`: JSON `[{"bucket":"docs","prefix":"handbook/","tenantId":"acme","kbId":"handbook"}]`.
   */
  OBJECT_STORE_MAPPINGS: json(objectStoreMappingsSchema, 'OBJECT_STORE_MAPPINGS').default([]),
  /**
   * Where `s3://bucket/key` references are read in the embedded setup: `<dir>/<bucket>/<key>`
   * (a local mirror, e.g. a MinIO data directory). Production needs an object-store reader.
   */
  OBJECT_STORE_DIR: z.string().default(resolve('.runtime/object-store')),
}).superRefine((env, ctx) => {
  if (env.INGEST_PREFETCH < env.INGEST_CONCURRENCY) ctx.addIssue({ code: 'custom', path: ['INGEST_PREFETCH'], message: `must be at least INGEST_CONCURRENCY (${env.INGEST_CONCURRENCY})` });
  if ((env.INGEST_TENANT_CONCURRENCY ?? 0) > env.INGEST_CONCURRENCY) ctx.addIssue({ code: 'custom', path: ['INGEST_TENANT_CONCURRENCY'], message: `must be at most INGEST_CONCURRENCY (${env.INGEST_CONCURRENCY})` });
});

export type KnowledgeIngestEnv = z.infer<typeof knowledgeIngestEnvSchema>;

export const loadKnowledgeIngestEnv = (env: NodeJS.ProcessEnv = process.env) => loadEnv(knowledgeIngestEnvSchema, env);
