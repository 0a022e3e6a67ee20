import { Module, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { ChatOpenAI } from '@langchain/openai';
import { ApiKeyStore } from '@aip/keys';
import { EventPublisher, MessagingModule } from '@aip/messaging';
import { ConfigDocuments, connectionOf, ENV, HealthController, LOGGER, OpenApiController, provideOpenApi, REDIS } from '@aip/runtime';
import { ConversationStore, ProfileStore } from '@aip/tasks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { appOpenApi } from './intent-scheduler.openapi.ts';
import { ActivityConsumer } from './activity/activity.consumer.ts';
import { NewContentNotifier } from './activity/new-content.notifier.ts';
import { INTENT_CLASSIFIER, type IntentClassifier } from './analysis/classifier.port.ts';
import { EmbeddingClassifier } from './analysis/embedding.classifier.ts';
import { FallbackClassifier } from './analysis/fallback.classifier.ts';
import { LlmClassifier, type ClassificationSchema, type StructuredModel } from './analysis/llm.classifier.ts';
import { CatalogueHolder } from './catalogue/catalogue.holder.ts';
import { CatalogueWatcher } from './catalogue/catalogue.watcher.ts';
import type { IntentSchedulerEnv } from './intent-scheduler.config.ts';
import { SchedulerMetrics } from './metrics/scheduler.metrics.ts';
import { PUSH_PUBLISHER, PushDispatcher, type PushPublisher } from './scheduler/push.dispatcher.ts';
import { SessionWorker } from './scheduler/session.worker.ts';
import { TickJob } from './scheduler/tick.job.ts';
import { SettingsController } from './settings/settings.controller.ts';
import { ShardLocks } from './sharding/shard-lock.ts';
import { ShardRunner } from './sharding/shard-runner.ts';
import { ActivityStore } from './state/activity.store.ts';
import { UserStateStore } from './state/user-state.store.ts';
import { PROFILE_TIME_ZONE, type ProfileTimeZone } from './rules/local-time.ts';
import { EMBEDDINGS } from './tokens.ts';

/** What the process hands the module: clients it owns and closes itself. */
export interface IntentSchedulerDeps {
  redis: Redis;
  logger: Logger;
  embeddings: EmbeddingsInterface;
  /** Overrides the chat model built from INTENT_LLM_* (tests). */
  structuredModel?: (schema: ClassificationSchema) => StructuredModel;
}

function classifierOf(env: IntentSchedulerEnv, deps: IntentSchedulerDeps): IntentClassifier {
  const embedding = new EmbeddingClassifier(deps.embeddings);
  const model = env.INTENT_LLM_MODEL;
  const bind =
    deps.structuredModel ??
    (model
      ? (schema: ClassificationSchema) =>
          new ChatOpenAI({
            model,
            temperature: 0,
            maxRetries: 1,
            ...(env.INTENT_LLM_API_KEY ? { apiKey: env.INTENT_LLM_API_KEY } : { apiKey: 'unused' }),
            ...(env.INTENT_LLM_BASE_URL ? { configuration: { baseURL: env.INTENT_LLM_BASE_URL } } : {}),
          }).withStructuredOutput(schema, { name: 'intent_classification' }) as StructuredModel
      : undefined);
  if (!bind) return embedding;
  const llm = new LlmClassifier(bind, { timeoutMs: env.INTENT_LLM_TIMEOUT_MS });
  return new FallbackClassifier(llm, embedding, (error) => deps.logger.warn({ err: String(error) }, 'chat-model classification failed; used embedding similarity'));
}

@Module({})
export class AppModule {
  static register(env: IntentSchedulerEnv, deps: IntentSchedulerDeps): DynamicModule {
    const { redis, logger } = deps;
    const prefix = `${env.REDIS_PREFIX}intent:`;
    // The profiles access writes (libs/tasks' key layout): their time zone is the user's when their proactive settings name none.
    const profiles = new ProfileStore(redis, { prefix: env.REDIS_PREFIX });
    const profileTimeZone: ProfileTimeZone = async (tenantId, userId) => (await profiles.forPrompt(tenantId, userId))?.timeZone;
    return {
      module: AppModule,
      imports: [MessagingModule.forRoot({ connection: connectionOf(env), source: 'intent-scheduler', logger }), TerminusModule.forRoot({ logger: false }), ScheduleModule.forRoot()],
      controllers: [ActivityConsumer, SettingsController, HealthController, OpenApiController],
      providers: [
        { provide: ENV, useValue: env },
        { provide: REDIS, useValue: redis },
        { provide: LOGGER, useValue: logger },
        provideOpenApi(appOpenApi),
        { provide: EMBEDDINGS, useValue: deps.embeddings },
        { provide: SchedulerMetrics, useFactory: () => SchedulerMetrics.for() },
        { provide: CatalogueHolder, useValue: new CatalogueHolder() },
        { provide: ConfigDocuments, useValue: new ConfigDocuments(redis, env.REDIS_PREFIX) },
        { provide: ApiKeyStore, useValue: new ApiKeyStore(redis, env.REDIS_PREFIX) },
        { provide: ActivityStore, useValue: new ActivityStore(redis, { prefix, shards: env.INTENT_SHARDS, windowMs: env.INTENT_ACTIVITY_WINDOW_MS }) },
        { provide: UserStateStore, useValue: new UserStateStore(redis, prefix) },
        { provide: PROFILE_TIME_ZONE, useValue: profileTimeZone },
        { provide: INTENT_CLASSIFIER, useValue: classifierOf(env, deps) },
        {
          provide: PUSH_PUBLISHER,
          inject: [EventPublisher],
          useFactory: (publisher: EventPublisher): PushPublisher => ({
            proactive: async (data, tenantId) => void (await publisher.publish('rtc.push.proactive', data, { tenantId })),
            notice: async (data, tenantId) => void (await publisher.publish('rtc.push.notice', data, { tenantId })),
          }),
        },
        {
          provide: PushDispatcher,
          inject: [UserStateStore, PUSH_PUBLISHER, CatalogueHolder, SchedulerMetrics],
          useFactory: (users: UserStateStore, publisher: PushPublisher, holder: CatalogueHolder, metrics: SchedulerMetrics) =>
            new PushDispatcher(users, publisher, () => holder.catalogue, metrics, logger, Date.now, profileTimeZone),
        },
        {
          provide: NewContentNotifier,
          inject: [UserStateStore, PushDispatcher, CatalogueHolder],
          useFactory: (users: UserStateStore, dispatcher: PushDispatcher, holder: CatalogueHolder) => new NewContentNotifier(users, dispatcher, () => holder.catalogue, env.INTENT_INTEREST_TTL_MS, Date.now, env.INTENT_NOTICE_USERS_PER_TERM),
        },
        {
          provide: ShardRunner,
          inject: [ActivityStore, UserStateStore, PushDispatcher, CatalogueHolder, SchedulerMetrics, INTENT_CLASSIFIER],
          useFactory: (activity: ActivityStore, users: UserStateStore, dispatcher: PushDispatcher, holder: CatalogueHolder, metrics: SchedulerMetrics, classifier: IntentClassifier) => {
            const worker = new SessionWorker(
              { activity, users, conversations: new ConversationStore(redis, { prefix: env.REDIS_PREFIX, retentionMs: env.CONVERSATION_RETENTION_DAYS }), classifier: () => classifier, catalogue: () => holder.catalogue, dispatcher, metrics, logger },
              { sessionsPerShard: env.INTENT_SESSIONS_PER_SHARD, recentTurns: env.INTENT_RECENT_TURNS, interestTtlMs: env.INTENT_INTEREST_TTL_MS },
            );
            const freshMs = Math.max(1, Math.floor(env.INTENT_TICK_MS / 2));
            return new ShardRunner({
              shards: env.INTENT_SHARDS,
              locks: new ShardLocks(redis, { prefix, lockMs: env.INTENT_LOCK_MS, owner: env.INSTANCE_ID }),
              freshness: {
                isFresh: async (shard) => (await redis.exists(`${prefix}shard:${shard}:fresh`)) === 1,
                markFresh: async (shard) => void (await redis.set(`${prefix}shard:${shard}:fresh`, env.INSTANCE_ID, 'PX', freshMs)),
              },
              work: (shard, lease) => worker.work(shard, lease),
              logger,
            });
          },
        },
        CatalogueWatcher,
        TickJob,
      ],
    };
  }
}
