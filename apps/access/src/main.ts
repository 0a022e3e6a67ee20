import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiErrorFilter, appMetrics, collectProcessMetrics, ConfigDocuments, createLogger, createRedis } from '@aip/runtime';
import { loadAccessEnv } from './access.config.ts';
import { AppModule } from './app.module.ts';
import { IpLimiter } from './ip-limit.ts';
import { Moderation, wordsDocumentSchema, type WordsDocument } from './moderation/moderation.service.ts';
import { ModelCatalog } from './models/model-catalog.ts';

const env = loadAccessEnv();
const logger = createLogger('access', env.LOG_LEVEL);
const redis = createRedis(env.REDIS_URL, logger, { maxRetriesPerRequest: 1 });
const adapter = new FastifyAdapter({ bodyLimit: env.MAX_BODY_BYTES, genReqId: () => crypto.randomUUID(), trustProxy: true });
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
const ipLimit = new IpLimiter(env.IP_RATE_LIMIT);
app
  .getHttpAdapter()
  .getInstance()
  .addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (!ipLimit.allow(request.ip)) {
      return reply.status(429).header('retry-after', '1').send({ error: { message: 'Too many requests from this address.', type: 'rate_limit_error', param: null, code: 'ip_rate_limited' } });
    }
  })
  .addHook('onResponse', async (request, reply) => {
    appMetrics.httpRequests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });
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
  documents.watch<WordsDocument>('words', ({ body, version }) => {
    moderation.apply(wordsDocumentSchema.parse(body));
    logger.info({ version, words: body.words.length }, 'word list applied');
  }, 1_000, onError),
];
app.getHttpAdapter().getInstance().addHook('onClose', async () => stopWatching.forEach((stop) => stop()));
await app.listen(env.PORT, '0.0.0.0');
logger.info({ port: env.PORT, models: env.MODELS }, 'access ready');
