import multipart from '@fastify/multipart';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { BrokerHealth, IdempotencyStore, RocketMQServer } from '@aip/messaging';
import { ApiErrorFilter, appMetrics, connectionOf, limitRequestsPerIp } from '@aip/runtime';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { KnowledgeIngestEnv } from './knowledge-ingest.config.ts';

/**
 * Longest route parameter (raw, percent-encoded) the router takes. Fastify's default, 100, would
 * answer 414 for ids the API accepts: 128 characters, each up to 9 characters encoded (`%E5%A0%B1`).
 */
const MAX_PARAM_LENGTH = 2_048;

/** The Fastify server options (body limit, request ids, router): shared by main.ts and the tests. */
export function fastifyOptions(env: KnowledgeIngestEnv): FastifyServerOptions {
  return {
    bodyLimit: env.MAX_JSON_BYTES,
    genReqId: () => crypto.randomUUID(),
    trustProxy: env.TRUST_PROXY,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // The router refuses a URL it cannot decode (e.g. `%ED%A0%80`, an unpaired surrogate) before
    // any hook or exception filter runs: answer in the platform's error shape all the same.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      void reply
        .status(status)
        .header('x-request-id', String(request.id))
        .send({ error: { message: `Malformed request: ${error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid percent-encoded UTF-8' : error.message}`, type: 'invalid_request_error', param: null, code: 'malformed_request' } });
    },
  };
}

/** HTTP plugins, error shape, hooks and the kb-change consumer: shared by main.ts and the tests. */
export async function configureApp(app: NestFastifyApplication, env: KnowledgeIngestEnv, redis: Redis, logger: Logger): Promise<RocketMQServer> {
  app.enableShutdownHooks();
  app.enableCors({ origin: env.CORS_ORIGINS.includes('*') ? true : env.CORS_ORIGINS, methods: ['GET', 'POST', 'PUT', 'DELETE'], allowedHeaders: ['authorization', 'content-type'], exposedHeaders: ['x-request-id', 'retry-after'], maxAge: 600 });
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
  limitRequestsPerIp(fastify, env.IP_RATE_LIMIT);
  const server = new RocketMQServer({
    connection: connectionOf(env),
    group: env.KB_CONSUMER_GROUP,
    // Changes held at once; INGEST_CONCURRENCY of them are applied at once (TenantFairScheduler).
    concurrency: env.INGEST_PREFETCH,
    leaseMs: env.LEASE_MS,
    idempotency: new IdempotencyStore(redis, { prefix: env.REDIS_PREFIX, processingTtlMs: env.LEASE_MS }),
    health: app.get(BrokerHealth),
    logger,
  });
  app.connectMicroservice({ strategy: server });
  return server;
}
