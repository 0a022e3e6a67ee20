import multipart from '@fastify/multipart';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { CONSUMER_GROUPS } from '@aip/contracts';
import type { PlatformAppOptions } from '@aip/runtime';
import { AppModule, type KnowledgeIngestDeps } from './app.module.ts';
import type { KnowledgeIngestEnv } from './knowledge-ingest.config.ts';

/**
 * Longest route parameter (raw, percent-encoded) the router takes. Fastify's default, 100, would
 * answer 414 for ids the API accepts: 128 characters, each up to 9 characters encoded (`%E5%A0%B1`).
 */
const MAX_PARAM_LENGTH = 2_048;

/** The Fastify server options (body limit, proxy trust, router). */
function fastifyOptions(env: KnowledgeIngestEnv): FastifyServerOptions {
  return {
    bodyLimit: env.MAX_JSON_BYTES,
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

/** How knowledge-ingest runs (main.ts, and the tests that start it in-process). */
export function appOptions(env: KnowledgeIngestEnv, deps: KnowledgeIngestDeps, options: { host?: string } = {}): PlatformAppOptions {
  return {
    module: AppModule.register(env, deps),
    env,
    redis: deps.redis,
    logger: deps.logger,
    http: fastifyOptions(env),
    cors: { origin: env.CORS_ORIGINS.includes('*') ? true : env.CORS_ORIGINS, methods: ['GET', 'POST', 'PUT', 'DELETE'], allowedHeaders: ['authorization', 'content-type'], exposedHeaders: ['x-request-id', 'retry-after'], maxAge: 600 },
    errors: {
      tooManyParts: { message: 'Send one file (part "file") and at most 20 text fields.', param: 'file' },
      unsupportedMediaType: 'Send JSON (application/json) or a multipart form (multipart/form-data).',
    },
    ipRateLimit: env.IP_RATE_LIMIT,
    // Changes held at once; INGEST_CONCURRENCY of them are applied at once (TenantFairScheduler).
    consumers: { group: CONSUMER_GROUPS.knowledgeIngest.name, concurrency: env.INGEST_PREFETCH, leaseMs: env.LEASE_MS, idempotency: { processingTtlMs: env.LEASE_MS } },
    // Files stream to disk in parts; the limit applies per file and ends the upload with a 413.
    plugins: async (app) => void (await app.register(multipart as never, { limits: { fileSize: env.MAX_UPLOAD_BYTES, files: 1, fields: 20, fieldSize: 64 * 1024 } })),
    ...(options.host ? { host: options.host } : {}),
    onClose: async () => void (await deps.store.close().catch(() => undefined)),
  };
}
