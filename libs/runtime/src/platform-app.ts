import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { BrokerHealth, IdempotencyStore, RocketMQServer, type RocketMQServerOptions } from '@aip/messaging';
import type { FastifyServerOptions } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { appMetrics, collectProcessMetrics } from './app.metrics.ts';
import { connectionOf, type BaseEnv } from './env.config.ts';
import { listenApp } from './http/admin-port.ts';
import { ApiErrorFilter, type ApiErrorFilterOptions } from './http/api-error.filter.ts';
import { limitRequestsPerIp } from './http/ip-limit.ts';
import { traceRequests } from './telemetry.ts';
import { startTracing } from './tracing.config.ts';

/** An app's topic consumers: its group and how many messages it works on at once. */
export interface ConsumerSettings extends Omit<RocketMQServerOptions, 'connection' | 'idempotency' | 'health' | 'logger'> {
  /**
   * Every handler runs at most once per event id (default). `processingTtlMs`: how long a crashed
   * holder's claim blocks a redelivery — the app's lease, when it has a short one.
   */
  idempotency?: false | { processingTtlMs?: number };
}

export interface PlatformAppOptions {
  /** The app's root module (its `register(...)`): every behaviour of the app is one hop from it. */
  module: DynamicModule;
  env: BaseEnv & { PORT: number };
  redis: Redis;
  logger: Logger;
  /** Fastify settings beyond request ids: body limit, proxy trust, router options. */
  http?: FastifyServerOptions;
  /** Browsers on other origins (the edges): which origins, methods and headers. */
  cors?: Parameters<NestFastifyApplication['enableCors']>[0];
  /** What clients are told in errors that depend on what the app accepts. */
  errors?: ApiErrorFilterOptions;
  /** Requests per second per client IP (0: off). Omitted: the app has no public HTTP API. */
  ipRateLimit?: number;
  consumers?: ConsumerSettings;
  /** Fastify plugins and raw-server wiring the app needs before it listens (multipart, static files). */
  plugins?: (app: NestFastifyApplication) => Promise<void> | void;
  /** Interface to listen on (default all). */
  host?: string;
  /** Runs last when the app closes, after its providers and consumers have stopped. */
  onClose?: () => Promise<void>;
}

export interface PlatformApp {
  app: NestFastifyApplication;
  /** The port the public API listens on (the one asked for, or the one given for port 0). */
  port: number;
  /** The app's consumers, when it has any. */
  consumers: RocketMQServer | undefined;
  close(): Promise<void>;
}

/**
 * The one way a platform app starts: Nest on Fastify with request ids, the platform's error shape,
 * request metrics, shutdown on SIGTERM, its consumers (at most once per event, sharing the broker
 * health the readiness probe reports), and the public and operators' ports. An app's `main.ts`
 * reads its environment, opens what its module needs and calls this; everything else the app does
 * is a provider of its module.
 */
export async function startPlatformApp(options: PlatformAppOptions): Promise<PlatformApp> {
  const { env, logger } = options;
  // First: every span and trace context of the app goes through it (off unless OTEL_* ask for it).
  const tracing = startTracing(String(logger.bindings()['name'] ?? 'aip'));
  const consumers = options.consumers && consumersOf(options.consumers, options);
  const adapter = new FastifyAdapter({ genReqId: () => randomUUID(), ...options.http });
  const root: DynamicModule = { module: PlatformRoot, imports: [options.module, ...(consumers ? [ConsumersModule.of(consumers)] : [])] };
  const app = await NestFactory.create<NestFastifyApplication>(root, adapter, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  if (options.cors) app.enableCors(options.cors);
  app.useGlobalFilters(new ApiErrorFilter(logger, options.errors));
  collectProcessMetrics();
  const fastify = app.getHttpAdapter().getInstance();
  if (tracing) traceRequests(fastify);
  fastify
    .addHook('onRequest', async (request, reply) => {
      void reply.header('x-request-id', request.id);
    })
    .addHook('onResponse', async (request, reply) => {
      appMetrics.httpRequests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
    });
  if (options.ipRateLimit !== undefined) limitRequestsPerIp(fastify, options.ipRateLimit);
  if (consumers) {
    // Readiness reports the consumers with the broker probe of the app's messaging module.
    consumers.reportTo(app.get(BrokerHealth));
    app.connectMicroservice({ strategy: consumers });
  }
  await options.plugins?.(app);
  // Fastify takes hooks only before it listens; this one runs after Nest's shutdown hooks.
  if (options.onClose) fastify.addHook('onClose', options.onClose);
  // Spans still buffered go out before the process ends.
  if (tracing) fastify.addHook('onClose', async () => tracing.shutdown().catch(() => undefined));
  await app.startAllMicroservices();
  await listenApp(app, env, options.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  return { app, port, consumers, close: () => app.close() };
}

function consumersOf(settings: ConsumerSettings, { env, redis, logger }: PlatformAppOptions): RocketMQServer {
  const { idempotency = {}, ...rest } = settings;
  return new RocketMQServer({
    ...rest,
    connection: connectionOf(env),
    ...(idempotency ? { idempotency: new IdempotencyStore(redis, { prefix: env.REDIS_PREFIX, ...idempotency }) } : {}),
    logger,
  });
}

@Module({})
class PlatformRoot {}

/** The app's consumer transport, injectable (e.g. by the worker's lane keeper) as RocketMQServer. */
@Module({})
class ConsumersModule {
  static of(server: RocketMQServer): DynamicModule {
    return { module: ConsumersModule, global: true, providers: [{ provide: RocketMQServer, useValue: server }], exports: [RocketMQServer] };
  }
}
