import { createEmbeddings, embeddingsConfigOf } from '@aip/embeddings';
import { createLogger, createRedis, startPlatformApp } from '@aip/runtime';
import { appOptions } from './app.options.ts';
import { loadIntentSchedulerEnv } from './intent-scheduler.config.ts';

const env = loadIntentSchedulerEnv();
const logger = createLogger('intent-scheduler', env.LOG_LEVEL);
const redis = createRedis(env.REDIS_URL, logger);
// The model loads once at start (first run: fetched from Maven Central); classification needs it.
const { embeddings, modelId, dimension } = await createEmbeddings(embeddingsConfigOf(env), { logger });
await startPlatformApp(appOptions(env, { redis, logger, embeddings }, async () => void (await redis.quit().catch(() => undefined))));
logger.info(
  { port: env.PORT, tickMs: env.INTENT_TICK_MS, shards: env.INTENT_SHARDS, instance: env.INSTANCE_ID, embeddings: { modelId, dimension }, classifier: env.INTENT_LLM_MODEL ? `llm:${env.INTENT_LLM_MODEL}` : 'embedding' },
  'intent-scheduler ready',
);
