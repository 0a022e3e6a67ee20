import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { applyRoutingDocument, applyWordsDocument, ModelCatalog, Moderation } from '@aip/chat-policy';
import { CLOSE_CODES } from '@aip/contracts';
import { ApiKeyStore } from '@aip/keys';
import { EventPublisher, MessagingModule } from '@aip/messaging';
import { admissionFastPath, PolicyBook } from '@aip/rate-limit';
import { ConfigDocuments, connectionOf, documentWatch, ENV, HealthController, LOGGER, OpenApiController, provideOpenApi, REDIS, watchRedis } from '@aip/runtime';
import { ConversationStore, TaskEventHub, TaskStore } from '@aip/tasks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { appOpenApi } from './rtc-push.openapi.ts';
import { Authenticator } from './auth/authenticator.ts';
import { KeyGate } from './auth/key-gate.ts';
import { ChatRelay } from './chat/chat.relay.ts';
import { DeliveryHub } from './delivery/delivery.hub.ts';
import { InboxStore } from './delivery/inbox.store.ts';
import { PresenceStore } from './delivery/presence.store.ts';
import { RtcMetrics } from './delivery/rtc.metrics.ts';
import { SseController } from './gateway/sse.controller.ts';
import { WsGateway } from './gateway/ws.gateway.ts';
import { PushConsumer } from './push/push.consumer.ts';
import { listenForDoorbells, PushRouter } from './push/push.router.ts';
import type { RtcEnv } from './rtc.config.ts';


/**
 * Starts delivery once the app is up (doorbells from other instances, the hub's sweeps, sockets on
 * `/v1/ws`, key revalidation); closes every socket with 1001 before the HTTP server and the
 * consumer go (the consumer drains itself).
 */
class RtcLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly subscriber: Redis;

  constructor(
    @Inject(DeliveryHub) private readonly hub: DeliveryHub,
    @Inject(WsGateway) private readonly gateway: WsGateway,
    @Inject(TaskEventHub) private readonly tasks: TaskEventHub,
    @Inject(KeyGate) private readonly gate: KeyGate,
    @Inject(PresenceStore) private readonly presence: PresenceStore,
    @Inject(HttpAdapterHost) private readonly http: HttpAdapterHost,
    @Inject(REDIS) redis: Redis,
    @Inject(ENV) private readonly env: RtcEnv,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.subscriber = watchRedis(redis.duplicate(), logger, 'doorbell subscriber');
  }

  async onApplicationBootstrap(): Promise<void> {
    await listenForDoorbells(this.subscriber, this.presence.channel(this.env.RTC_INSTANCE_ID), this.hub, this.logger);
    this.hub.start();
    this.gateway.start();
    this.gate.start();
    this.http.httpAdapter.getHttpServer().on('upgrade', (request: Parameters<WsGateway['handleUpgrade']>[0], socket: Parameters<WsGateway['handleUpgrade']>[1], head: Buffer) => this.gateway.handleUpgrade(request, socket, head));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.gate.stop();
    await this.hub.close(CLOSE_CODES.goingAway, 'server shutting down');
    await this.gateway.close();
    await this.tasks.close();
    await this.subscriber.quit().catch(() => undefined);
  }
}

@Module({})
export class AppModule {
  static register(env: RtcEnv, redis: Redis, logger: Logger): DynamicModule {
    const metrics = RtcMetrics.for();
    const inbox = new InboxStore(redis, { prefix: env.REDIS_PREFIX, maxLength: env.INBOX_MAX, ttlMs: env.INBOX_TTL_S * 1_000, dedupeTtlMs: env.DEDUPE_TTL_S * 1_000 });
    const presence = new PresenceStore(redis, env.REDIS_PREFIX, env.PRESENCE_TTL_MS);
    const hub = new DeliveryHub(inbox, presence, {
      instanceId: env.RTC_INSTANCE_ID, resendAfterMs: env.RESEND_AFTER_MS, maxBufferedBytes: env.MAX_BUFFERED_BYTES,
      maxConnectionsPerUser: env.MAX_CONNECTIONS_PER_USER, presenceTtlMs: env.PRESENCE_TTL_MS, sweepIntervalMs: env.SWEEP_INTERVAL_MS,
    }, metrics, logger);
    return {
      module: AppModule,
      imports: [MessagingModule.forRoot({ connection: connectionOf(env), source: 'rtc-push', sendTimeoutMs: env.PUBLISH_TIMEOUT_MS, logger }), TerminusModule.forRoot({ logger: false })],
      controllers: [SseController, HealthController, OpenApiController, PushConsumer],
      providers: [
        { provide: ENV, useValue: env },
        { provide: REDIS, useValue: redis },
        { provide: LOGGER, useValue: logger },
        provideOpenApi(appOpenApi),
        { provide: RtcMetrics, useValue: metrics },
        { provide: InboxStore, useValue: inbox },
        { provide: PresenceStore, useValue: presence },
        { provide: DeliveryHub, useValue: hub },
        { provide: ApiKeyStore, useValue: new ApiKeyStore(redis, env.REDIS_PREFIX) },
        { provide: TaskStore, useValue: new TaskStore(redis, { prefix: env.REDIS_PREFIX }) },
        // Blocking stream reads get their own connection: they would stall every command behind them.
        { provide: TaskEventHub, useValue: new TaskEventHub(watchRedis(redis.duplicate(), logger, 'task events'), redis, env.REDIS_PREFIX, (key, id, err) => logger.warn({ key, id, err: String(err) }, 'skipped an invalid task event')) },
        // Chat policy shared with access, kept current from the same run-time documents.
        { provide: ConfigDocuments, useValue: new ConfigDocuments(redis, env.REDIS_PREFIX) },
        documentWatch('routing', [ModelCatalog], applyRoutingDocument),
        documentWatch('words', [Moderation], applyWordsDocument),
        // The admission fast path's limits: the limiter's `policies` document (its default comes with the limiter's terms).
        { provide: PolicyBook, useValue: new PolicyBook({ id: 'until-terms-arrive' }) },
        documentWatch('policies', [PolicyBook], (book: PolicyBook) => (body) => book.apply(body)),
        { provide: Moderation, useValue: new Moderation({ words: env.SENSITIVE_WORDS, input: env.SENSITIVE_WORDS_INPUT }) },
        { provide: ModelCatalog, useValue: new ModelCatalog(env.MODELS) },
        { provide: Authenticator, inject: [ApiKeyStore], useFactory: (keys: ApiKeyStore) => new Authenticator(keys, redis, env.REDIS_PREFIX) },
        {
          provide: KeyGate,
          inject: [Authenticator],
          useFactory: (auth: Authenticator) =>
            new KeyGate(auth, { maxConnectionsPerKey: env.MAX_CONNECTIONS_PER_KEY, maxChatsPerKey: env.MAX_CHATS_PER_KEY, maxChatsPerUser: env.MAX_CHATS_PER_USER, revalidateMs: env.REVALIDATE_INTERVAL_MS }, logger),
        },
        {
          provide: ChatRelay,
          inject: [TaskStore, TaskEventHub, EventPublisher, ModelCatalog, Moderation, PolicyBook],
          useFactory: (tasks: TaskStore, events: TaskEventHub, publisher: EventPublisher, catalog: ModelCatalog, moderation: Moderation, policies: PolicyBook) =>
            new ChatRelay(tasks, events, publisher, admissionFastPath(redis, env.REDIS_PREFIX, policies, env.ADMISSION_FAST_PATH, (fields, message) => logger.warn(fields, message)), { catalog, moderation, sessions: new ConversationStore(redis, { prefix: env.REDIS_PREFIX, retentionMs: env.CONVERSATION_RETENTION_DAYS }) }, { defaultModel: env.DEFAULT_MODEL, defaultMaxTokens: env.DEFAULT_MAX_TOKENS, admissionDeadlineMs: env.ADMISSION_DEADLINE_MS, timeoutMs: env.CHAT_TIMEOUT_MS }),
        },
        {
          provide: PushRouter,
          useFactory: () => new PushRouter(inbox, presence, hub, redis, env.RTC_INSTANCE_ID, metrics, logger),
        },
        {
          provide: WsGateway,
          inject: [Authenticator, ChatRelay, KeyGate],
          useFactory: (auth: Authenticator, chat: ChatRelay, gate: KeyGate) =>
            new WsGateway(auth, hub, chat, gate, {
              path: '/v1/ws', maxFrameBytes: env.MAX_FRAME_BYTES, helloTimeoutMs: env.HELLO_TIMEOUT_MS, heartbeatMs: env.HEARTBEAT_MS,
              resendAfterMs: env.RESEND_AFTER_MS, maxChatsPerConnection: env.MAX_CHATS_PER_CONNECTION,
            }, metrics, logger),
        },
        RtcLifecycle,
      ],
    };
  }
}
