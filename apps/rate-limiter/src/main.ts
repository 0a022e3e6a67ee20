import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { BrokerHealth, IdempotencyStore, RocketMQServer } from '@aip/messaging';
import { collectProcessMetrics, connectionOf, createLogger, createRedis, listenApp } from '@aip/runtime';
import { AppModule } from './app.module.ts';
import { loadRateLimiterEnv } from './rate-limiter.config.ts';

const env = loadRateLimiterEnv();
const logger = createLogger('rate-limiter', env.LOG_LEVEL);
const redis = createRedis(env.REDIS_URL, logger);
const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(env, redis, logger), new FastifyAdapter(), { logger: ['error', 'warn'] });
app.enableShutdownHooks();
collectProcessMetrics();
app.connectMicroservice({
  strategy: new RocketMQServer({
    connection: connectionOf(env),
    group: 'rate-limiter',
    // A redelivered submission must not reserve twice; a redelivered completion must not release twice.
    idempotency: new IdempotencyStore(redis, { prefix: env.REDIS_PREFIX }),
    health: app.get(BrokerHealth),
    logger,
  }),
});
await app.startAllMicroservices();
await listenApp(app, env);
logger.info({ port: env.PORT }, 'rate-limiter ready');
