import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { CONSUMER_GROUPS } from '@aip/contracts';
import type { PlatformAppOptions } from '@aip/runtime';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppModule } from './app.module.ts';
import type { RtcEnv } from './rtc.config.ts';

/** How rtc-push runs (main.ts, and the tests that start several instances in one process). */
export function appOptions(env: RtcEnv, deps: { redis: Redis; logger: Logger }, options: { host?: string } = {}): PlatformAppOptions {
  const { redis, logger } = deps;
  return {
    module: AppModule.register(env, redis, logger),
    env,
    redis,
    logger,
    http: { bodyLimit: env.MAX_FRAME_BYTES, trustProxy: env.TRUST_PROXY },
    // HTTP requests (SSE, chat, acks, the page); WebSocket connections are capped per key and user.
    ipRateLimit: env.IP_RATE_LIMIT,
    // Pushes handled at once by this instance: different users in parallel, one user's in order.
    consumers: { group: CONSUMER_GROUPS.rtcPush.name, concurrency: env.PUSH_CONCURRENCY, drainTimeoutMs: env.DRAIN_TIMEOUT_MS },
    plugins: async (app) => {
      const publicDir = env.PUBLIC_DIR || fileURLToPath(new URL('../public', import.meta.url));
      if (!existsSync(publicDir)) return;
      await app.register(fastifyStatic as never, { root: publicDir, prefix: '/' });
      // The page's settings: where access and knowledge-ingest are, and the model to chat with.
      const pageConfig = { ...(env.ACCESS_PUBLIC_URL ? { accessUrl: env.ACCESS_PUBLIC_URL } : {}), ...(env.KNOWLEDGE_PUBLIC_URL ? { knowledgeUrl: env.KNOWLEDGE_PUBLIC_URL } : {}), model: env.DEFAULT_MODEL };
      app.getHttpAdapter().getInstance().get('/config.json', async (_request, reply) => reply.header('cache-control', 'no-store').send(pageConfig));
    },
    ...(options.host ? { host: options.host } : {}),
    onClose: async () => void (await redis.quit().catch(() => undefined)),
  };
}
