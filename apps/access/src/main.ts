import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger } from '@aip/runtime';
import { Redis } from 'ioredis';
import { loadAccessEnv } from './access.config.ts';
import { AppModule } from './app.module.ts';
import { OpenAIErrorFilter } from './common/openai-error.filter.ts';
import { IpLimiter } from './ip-limit.ts';

const env = loadAccessEnv();
const logger = createLogger('access', env.LOG_LEVEL);
const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
const adapter = new FastifyAdapter({ bodyLimit: env.MAX_BODY_BYTES, genReqId: () => crypto.randomUUID(), trustProxy: true });
const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(env, redis, logger), adapter, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
app.useGlobalFilters(new OpenAIErrorFilter(logger));
const ipLimit = new IpLimiter(env.IP_RATE_LIMIT);
app
  .getHttpAdapter()
  .getInstance()
  .addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (!ipLimit.allow(request.ip)) {
      return reply.status(429).header('retry-after', '1').send({ error: { message: 'Too many requests from this address.', type: 'rate_limit_error', param: null, code: 'ip_rate_limited' } });
    }
  });
await app.listen(env.PORT, '0.0.0.0');
logger.info({ port: env.PORT, models: env.MODELS }, 'access ready');
