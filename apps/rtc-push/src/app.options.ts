import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { BrokerHealth, IdempotencyStore, RocketMQServer } from '@aip/messaging';
import { ModelCatalog, Moderation, watchRoutingDocument, watchWordsDocument } from '@aip/chat-policy';
import { ApiErrorFilter, collectProcessMetrics, ConfigDocuments, connectionOf, createRedis, limitRequestsPerIp, listenApp, watchRedis } from '@aip/runtime';
import type { Logger } from 'pino';
import { AppModule } from './app.module.ts';
import { KeyGate } from './auth/key-gate.ts';
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
  const adapter = new FastifyAdapter({ bodyLimit: env.MAX_FRAME_BYTES, genReqId: () => randomUUID(), trustProxy: env.TRUST_PROXY });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(env, redis, logger), adapter, { logger: ['error', 'warn'] });
  // Every HTTP error in the platform's shape with the request id, as on access; no Nest default bodies, no stack traces.
  app.useGlobalFilters(new ApiErrorFilter(logger));
  // HTTP requests (SSE, chat, acks, the page); WebSocket connections are capped per key and user.
  limitRequestsPerIp(app.getHttpAdapter().getInstance(), env.IP_RATE_LIMIT);
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

  // Run-time documents shared with access: a new word list or routing applies within a second.
  const documents = app.get(ConfigDocuments);
  const catalog = app.get(ModelCatalog);
  const moderation = app.get(Moderation);
  const onError = (error: unknown) => logger.warn({ err: String(error) }, 'could not load a configuration document');
  const stopWatching = [
    watchWordsDocument(documents, moderation, { onApplied: (version) => logger.info({ version, words: moderation.filter.size }, 'word list applied'), onError }),
    watchRoutingDocument(documents, catalog, { onApplied: (version) => logger.info({ version, models: catalog.aliases }, 'model routing applied'), onError }),
  ];

  const hub = app.get(DeliveryHub);
  const gateway = app.get(WsGateway);
  await listenForDoorbells(subscriber, app.get(PresenceStore).channel(env.RTC_INSTANCE_ID), hub, logger);
  hub.start();
  gateway.start();
  app.get(KeyGate).start();
  app.getHttpServer().on('upgrade', (request, socket, head) => gateway.handleUpgrade(request, socket, head));
  app.getHttpAdapter().getInstance().addHook('onClose', async () => {
    stopWatching.forEach((stop) => stop());
    await subscriber.quit().catch(() => undefined);
  });
  await app.startAllMicroservices();
  await listenApp(app, env, options.host);
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
