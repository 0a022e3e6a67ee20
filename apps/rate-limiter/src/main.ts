import { CONSUMER_GROUPS } from '@aip/contracts';
import { createLogger, createRedis, startPlatformApp } from '@aip/runtime';
import { AppModule } from './app.module.ts';
import { loadRateLimiterEnv } from './rate-limiter.config.ts';

const env = loadRateLimiterEnv();
const logger = createLogger('rate-limiter', env.LOG_LEVEL);
const redis = createRedis(env.REDIS_URL, logger);
// A redelivered submission must not reserve twice; a redelivered completion must not release twice.
await startPlatformApp({ module: AppModule.register(env, redis, logger), env, redis, logger, consumers: { group: CONSUMER_GROUPS.rateLimiter.name } });
logger.info({ port: env.PORT }, 'rate-limiter ready');
