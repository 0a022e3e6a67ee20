import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { BrokerHealth, IdempotencyStore, RocketMQServer } from '@aip/messaging';
import { collectProcessMetrics, connectionOf, createRedis, watchRedis } from '@aip/runtime';
import type { Logger } from 'pino';
import { AppModule } from './app.module.ts';
import { DeliveryHub } from './delivery/delivery.hub.ts';
import { PresenceStore } from './delivery/presence.store.ts';
import { WsGateway } from './gateway/ws.gateway.ts';
import { listenForDoorbells } from './push/push.router.ts';
import type { RtcEnv } from './rtc.config.ts';

export interface RunningRtcPush {
  app: NestFastifyApplication;
  port: number;
  close(): Promise<void>;
}

/** Builds and starts one rtc-push instance (main.ts, and in-process integration tests). */
export async function startRtcPush(env: RtcEnv, logger: Logger, options: { host?: string } = {}): Promise<RunningRtcPush> {
  const redis = createRedis(env.REDIS_URL, logger);
  const subscriber = watchRedis(redis.duplicate(), logger, 'doorbell subscriber');
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(env, redis, logger), new FastifyAdapter({ bodyLimit: env.MAX_FRAME_BYTES }), { logger: ['error', 'warn'] });
  collectProcessMetrics();
  app.connectMicroservice({
    strategy: new RocketMQServer({
      connection: connectionOf(env),
      group: env.PUSH_GROUP,
      idempotency: new IdempotencyStore(redis, { prefix: env.REDIS_PREFIX }),
      health: app.get(BrokerHealth),
      drainTimeoutMs: env.DRAIN_TIMEOUT_MS,
      logger,
    }),
  });

  const publicDir = env.PUBLIC_DIR || fileURLToPath(new URL('../public', import.meta.url));
  if (existsSync(publicDir)) {
    await app.register(fastifyStatic as never, { root: publicDir, prefix: '/' });
    // The page's settings: where access and knowledge-ingest are, and the model to chat with.
    const pageConfig = { ...(env.ACCESS_PUBLIC_URL ? { accessUrl: env.ACCESS_PUBLIC_URL } : {}), ...(env.KNOWLEDGE_PUBLIC_URL ? { knowledgeUrl: env.KNOWLEDGE_PUBLIC_URL } : {}), model: env.DEFAULT_MODEL };
    app.getHttpAdapter().getInstance().get('/config.json', async (_request, reply) => reply.header('cache-control', 'no-store').send(pageConfig));
  }

  const hub = app.get(DeliveryHub);
  const gateway = app.get(WsGateway);
  await listenForDoorbells(subscriber, app.get(PresenceStore).channel(env.RTC_INSTANCE_ID), hub, logger);
  hub.start();
  gateway.start();
  app.getHttpServer().on('upgrade', (request, socket, head) => gateway.handleUpgrade(request, socket, head));
  app.getHttpAdapter().getInstance().addHook('onClose', async () => {
    await subscriber.quit().catch(() => undefined);
  });
  await app.startAllMicroservices();
  await app.listen(env.PORT, options.host ?? '0.0.0.0');
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  return {
    app,
    port,
    async close() {
      await app.close();
      await redis.quit().catch(() => undefined);
    },
  };
}
