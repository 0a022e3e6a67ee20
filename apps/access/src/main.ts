import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { watchWordsDocument } from '@aip/chat-policy';
import { ApiErrorFilter, appMetrics, collectProcessMetrics, ConfigDocuments, createLogger, createRedis, limitRequestsPerIp, listenApp } from '@aip/runtime';
import { loadAccessEnv } from './access.config.ts';
import { AppModule } from './app.module.ts';
import { Moderation } from './moderation/moderation.service.ts';
import { ModelCatalog } from './models/model-catalog.ts';

const env = loadAccessEnv();
const logger = createLogger('access', env.LOG_LEVEL);
const redis = createRedis(env.REDIS_URL, logger, { maxRetriesPerRequest: 1 });
const adapter = new FastifyAdapter({ bodyLimit: env.MAX_BODY_BYTES, genReqId: () => crypto.randomUUID(), trustProxy: env.TRUST_PROXY });
const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(env, redis, logger), adapter, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
app.enableCors({
  origin: env.CORS_ORIGINS.includes('*') ? true : env.CORS_ORIGINS,
  methods: ['GET', 'POST', 'DELETE'],
  allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'last-event-id'],
  exposedHeaders: ['x-request-id', 'x-task-id', 'retry-after', 'x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests', 'x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens'],
  maxAge: 600,
});
app.useGlobalFilters(new ApiErrorFilter(logger));
collectProcessMetrics();
app
  .getHttpAdapter()
  .getInstance()
  .addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  })
  .addHook('onResponse', async (request, reply) => {
    appMetrics.httpRequests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });
limitRequestsPerIp(app.getHttpAdapter().getInstance(), env.IP_RATE_LIMIT);
// Run-time documents: a new version applies within a second, on every instance.
const documents = app.get(ConfigDocuments);
const catalog = app.get(ModelCatalog);
const moderation = app.get(Moderation);
const onError = (error: unknown) => logger.warn({ err: String(error) }, 'could not load a configuration document');
const stopWatching = [
  documents.watch<{ models: Record<string, unknown> }>('routing', ({ body, version }) => {
    catalog.aliases = Object.keys(body.models);
    logger.info({ version, models: catalog.aliases }, 'model routing applied');
  }, 1_000, onError),
  // The same watcher as rtc-push's: both edges apply every version of the one `words` document.
  watchWordsDocument(documents, moderation, { onApplied: (version) => logger.info({ version, words: moderation.filter.size }, 'word list applied'), onError }),
];
app.getHttpAdapter().getInstance().addHook('onClose', async () => stopWatching.forEach((stop) => stop()));
await listenApp(app, env);
logger.info({ port: env.PORT, models: env.MODELS }, 'access ready');
