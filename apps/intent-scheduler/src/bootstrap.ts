import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { CONSUMER_GROUPS } from '@aip/contracts';
import { BrokerHealth, IdempotencyStore, RocketMQServer } from '@aip/messaging';
import { ApiErrorFilter, connectionOf, listenApp } from '@aip/runtime';
import { AppModule, type IntentSchedulerDeps } from './app.module.ts';
import type { IntentSchedulerEnv } from './intent-scheduler.config.ts';

/**
 * Builds, connects and starts one scheduler instance (HTTP on `PORT`, consumers, ticks). Used by
 * main.ts and by the integration tests, which start several instances in one process.
 */
export async function startIntentScheduler(env: IntentSchedulerEnv, deps: IntentSchedulerDeps, onClose?: () => Promise<void>): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(env, deps), new FastifyAdapter(), { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  app.useGlobalFilters(new ApiErrorFilter(deps.logger));
  app.connectMicroservice({
    strategy: new RocketMQServer({
      connection: connectionOf(env),
      group: env.INTENT_CONSUMER_GROUP ?? CONSUMER_GROUPS.intentScheduler.name,
      // A redelivered indexed event must not notify twice (the dedupe keys guard too).
      idempotency: new IdempotencyStore(deps.redis, { prefix: env.REDIS_PREFIX }),
      health: app.get(BrokerHealth),
      logger: deps.logger,
    }),
  });
  await app.startAllMicroservices();
  // Fastify accepts hooks only before it listens; runs after the consumers and the tick have drained.
  if (onClose) app.getHttpAdapter().getInstance().addHook('onClose', onClose);
  await listenApp(app, env);
  return app;
}
