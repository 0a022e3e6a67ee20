import multipart from '@fastify/multipart';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BrokerHealth, IdempotencyStore, RocketMQServer } from '@aip/messaging';
import { ApiErrorFilter, appMetrics, connectionOf } from '@aip/runtime';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { KnowledgeIngestEnv } from './knowledge-ingest.config.ts';

/** HTTP plugins, error shape, hooks and the kb-change consumer: shared by main.ts and the tests. */
export async function configureApp(app: NestFastifyApplication, env: KnowledgeIngestEnv, redis: Redis, logger: Logger): Promise<RocketMQServer> {
  app.enableShutdownHooks();
  app.enableCors({ origin: env.CORS_ORIGINS.includes('*') ? true : env.CORS_ORIGINS, methods: ['GET', 'POST', 'PUT', 'DELETE'], allowedHeaders: ['authorization', 'content-type'], exposedHeaders: ['x-request-id'], maxAge: 600 });
  app.useGlobalFilters(
    new ApiErrorFilter(logger, {
      tooManyParts: { message: 'Send one file (part "file") and at most 20 text fields.', param: 'file' },
      unsupportedMediaType: 'Send JSON (application/json) or a multipart form (multipart/form-data).',
    }),
  );
  const fastify = app.getHttpAdapter().getInstance();
  // Files stream to disk in parts; the limit applies per file and ends the upload with a 413.
  await app.register(multipart as never, { limits: { fileSize: env.MAX_UPLOAD_BYTES, files: 1, fields: 20, fieldSize: 64 * 1024 } });
  fastify
    .addHook('onRequest', async (request, reply) => {
      void reply.header('x-request-id', request.id);
    })
    .addHook('onResponse', async (request, reply) => {
      appMetrics.httpRequests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
    });
  const server = new RocketMQServer({
    connection: connectionOf(env),
    group: env.KB_CONSUMER_GROUP,
    concurrency: env.INGEST_CONCURRENCY,
    leaseMs: env.LEASE_MS,
    idempotency: new IdempotencyStore(redis, { prefix: env.REDIS_PREFIX, processingTtlMs: env.LEASE_MS }),
    health: app.get(BrokerHealth),
    logger,
  });
  app.connectMicroservice({ strategy: server });
  return server;
}
