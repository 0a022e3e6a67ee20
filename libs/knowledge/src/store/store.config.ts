import { z } from 'zod';
import { KnowledgeStoreError } from './store.errors.ts';

/**
 * Environment fields of the knowledge store, for an app to merge into its schema:
 * `baseEnvSchema.extend(knowledgeStoreEnv.shape)`; then `knowledgeStoreConfigOf(env)` at start-up,
 * which also checks the rule a field schema cannot (QDRANT_URL is required for qdrant). A plain
 * object without refinements, so its shape can be merged.
 */
export const knowledgeStoreEnv = z
  .object({
    /** `lancedb` (embedded, default) or `qdrant`. */
    VECTOR_STORE: z.enum(['lancedb', 'qdrant']).default('lancedb'),
    /** Directory of the embedded LanceDB database. */
    LANCEDB_DIR: z.string().min(1).default('.runtime/lancedb'),
    QDRANT_URL: z.string().url('an http(s) URL, e.g. http://127.0.0.1:6333').optional(),
    QDRANT_API_KEY: z.string().min(1).optional(),
    QDRANT_COLLECTION: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,255}$/, 'letters, digits, _ and - only')
      .default('knowledge_chunks'),
  });

export type KnowledgeStoreEnv = z.infer<typeof knowledgeStoreEnv>;

export interface KnowledgeStoreConfig {
  readonly provider: 'lancedb' | 'qdrant';
  readonly dataDir?: string;
  readonly url?: string;
  readonly apiKey?: string;
  readonly collection?: string;
}

export function knowledgeStoreConfigOf(env: Pick<KnowledgeStoreEnv, 'VECTOR_STORE' | 'LANCEDB_DIR' | 'QDRANT_URL' | 'QDRANT_API_KEY' | 'QDRANT_COLLECTION'>): KnowledgeStoreConfig {
  if (env.VECTOR_STORE === 'qdrant' && !env.QDRANT_URL) throw new KnowledgeStoreError('invalid_config', 'invalid configuration:\n  QDRANT_URL: required when VECTOR_STORE=qdrant (e.g. http://127.0.0.1:6333)');
  return env.VECTOR_STORE === 'qdrant'
    ? { provider: 'qdrant', url: env.QDRANT_URL!, ...(env.QDRANT_API_KEY ? { apiKey: env.QDRANT_API_KEY } : {}), collection: env.QDRANT_COLLECTION }
    : { provider: 'lancedb', dataDir: env.LANCEDB_DIR };
}
