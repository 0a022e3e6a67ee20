import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { CONSUMER_GROUPS } from '@aip/contracts';
import type { PlatformAppOptions } from '@aip/runtime';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppModule } from './app.module.ts';
import type { PageConfig } from './page-config.schema.ts';
import type { RtcEnv } from './rtc.config.ts';

/**
 * The web page (apps/web) as `nx run @aip/web:build` leaves it. Two folders up from this file in
 * src/ and dist/ alike, in the repository and in the image (/app/service/dist → /app/web/dist,
 * deploy/docker/Dockerfile).
 */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

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
      // The page's settings: where access and knowledge-ingest are, and the model to chat with.
      // Served with or without the page, so a page served elsewhere (Vite's dev server) reads them too.
      const pageConfig: PageConfig = { ...(env.ACCESS_PUBLIC_URL ? { accessUrl: env.ACCESS_PUBLIC_URL } : {}), ...(env.KNOWLEDGE_PUBLIC_URL ? { knowledgeUrl: env.KNOWLEDGE_PUBLIC_URL } : {}), model: env.DEFAULT_MODEL };
      app.getHttpAdapter().getInstance().get('/config.json', async (_request, reply) => reply.header('cache-control', 'no-store').send(pageConfig));
      const webDir = env.WEB_DIR || DEFAULT_WEB_DIR;
      if (!existsSync(join(webDir, 'index.html'))) {
        logger.warn({ webDir }, 'the web page is not built: / serves nothing (build it with `npx nx run @aip/web:build`, or point WEB_DIR at a built page)');
        return;
      }
      await app.register(fastifyStatic as never, {
        root: webDir,
        prefix: '/',
        cacheControl: false,
        // Vite names assets by their content hash: they never change; index.html must be re-read.
        setHeaders: (reply: { header(name: string, value: string): unknown }, path: string) =>
          reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'),
      });
      logger.info({ webDir }, 'serving the web page at /');
    },
    ...(options.host ? { host: options.host } : {}),
    onClose: async () => void (await redis.quit().catch(() => undefined)),
  };
}
