import { CONSUMER_GROUPS } from '@aip/contracts';
import { createLogger, createRedis, startPlatformApp } from '@aip/runtime';
import { loadAccessEnv } from './access.config.ts';
import { AppModule } from './app.module.ts';

const env = loadAccessEnv();
const logger = createLogger('access', env.LOG_LEVEL);
const redis = createRedis(env.REDIS_URL, logger, { maxRetriesPerRequest: 1 });
await startPlatformApp({
  module: AppModule.register(env, redis, logger),
  env,
  redis,
  logger,
  http: { bodyLimit: env.MAX_BODY_BYTES, trustProxy: env.TRUST_PROXY },
  cors: {
    origin: env.CORS_ORIGINS.includes('*') ? true : env.CORS_ORIGINS,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'last-event-id'],
    exposedHeaders: ['x-request-id', 'x-task-id', 'retry-after', 'x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests', 'x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens'],
    maxAge: 600,
  },
  ipRateLimit: env.IP_RATE_LIMIT,
  // The usage ledger's writer: the lifecycle events that end requests.
  ...(env.USAGE_LEDGER === 'on' ? { consumers: { group: CONSUMER_GROUPS.usageLedger.name } } : {}),
});
logger.info({ port: env.PORT, models: env.MODELS }, 'access ready');
