import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { createEmbeddings, embeddingsConfigOf } from '@aip/embeddings';
import { ApiKeyStore } from '@aip/keys';
import { MessagingModule } from '@aip/messaging';
import { AdmissionFastPath, admissionFastPath, PolicyBook, rateLimitPrefix, SpendBudgets } from '@aip/rate-limit';
import { applyRoutingDocument, applyWordsDocument, ModelCatalog } from '@aip/chat-policy';
import { ConfigDocuments, connectionOf, documentWatch, ENV, HealthController, LOGGER, OpenApiController, provideOpenApi, REDIS, ROUTING_WATCH, watchRedis } from '@aip/runtime';
import { ClaimCheck, RedisObjectStore, ProfileStore, ConversationStore, TaskEventHub, TaskStore } from '@aip/tasks';
import { migrate, openUsageDatabase, PriceBook, UsageLedger } from '@aip/usage';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { appOpenApi } from './access.openapi.ts';
import type { AccessEnv } from './access.config.ts';
import { AdminController } from './admin/admin.controller.ts';
import { ChatController } from './chat/chat.controller.ts';
import { EmbeddingsController } from './embeddings/embeddings.controller.ts';
import { EmbeddingsEndpoint } from './embeddings/embeddings.endpoint.ts';
import { SubmissionService } from './chat/submission.service.ts';
import { ConfigController } from './admin/config.controller.ts';
import { Moderation } from './moderation/moderation.service.ts';
import { TasksController } from './tasks/tasks.controller.ts';
import { RealtimeController } from './realtime/realtime.controller.ts';
import { RealtimeTokenService } from './realtime/realtime-token.service.ts';
import { ProfileController } from './users/profile.controller.ts';
import { UserExportController } from './users/user-export.controller.ts';
import { ConversationsController } from './conversations/conversations.controller.ts';
import { ResponseStore } from './responses/response.store.ts';
import { ResponsesController } from './responses/responses.controller.ts';
import { UsageConsumer } from './usage/usage.consumer.ts';
import { AdminBudgetsController, AdminUsageController, UsageController } from './usage/usage.controller.ts';
import { FeedbackController } from './usage/feedback.controller.ts';
import { BudgetKeeper } from './usage/budget-keeper.ts';

@Module({})
export class AppModule {
  static register(env: AccessEnv, redis: Redis, logger: Logger): DynamicModule {
    // The default policy comes with the limiter's terms; the document is the limiter's `policies`.
    const policies = new PolicyBook({ id: 'until-terms-arrive' });
    const moderation = new Moderation({ words: env.SENSITIVE_WORDS, input: env.SENSITIVE_WORDS_INPUT });
    const admission = admissionFastPath(redis, env.REDIS_PREFIX, policies, env.ADMISSION_FAST_PATH, (fields, message) => logger.warn(fields, message));
    return {
      module: AppModule,
      imports: [MessagingModule.forRoot({ connection: connectionOf(env), source: 'access', sendTimeoutMs: env.PUBLISH_TIMEOUT_MS, logger }), TerminusModule.forRoot({ logger: false })],
      controllers: [ChatController, ResponsesController, EmbeddingsController, TasksController, AdminController, ConfigController, RealtimeController, ProfileController, ConversationsController, UserExportController, UsageController, AdminUsageController, AdminBudgetsController, FeedbackController, ...(env.USAGE_LEDGER === 'on' ? [UsageConsumer] : []), HealthController, OpenApiController],
      providers: [
        { provide: ENV, useValue: env },
        { provide: REDIS, useValue: redis },
        { provide: LOGGER, useValue: logger },
        provideOpenApi(appOpenApi),
        { provide: ApiKeyStore, useValue: new ApiKeyStore(redis, env.REDIS_PREFIX) },
        { provide: TaskStore, useValue: new TaskStore(redis, { prefix: env.REDIS_PREFIX }) },
        { provide: ConversationStore, useValue: new ConversationStore(redis, { prefix: env.REDIS_PREFIX, retentionMs: env.CONVERSATION_RETENTION_DAYS }) },
        { provide: ProfileStore, useValue: new ProfileStore(redis, { prefix: env.REDIS_PREFIX }) },
        // Blocking stream reads get their own connection: they would stall every command behind them.
        { provide: TaskEventHub, useValue: new TaskEventHub(watchRedis(redis.duplicate(), logger, 'task events'), redis, env.REDIS_PREFIX) },
        { provide: Moderation, useValue: moderation },
        { provide: ResponseStore, useValue: new ResponseStore(redis, env.REDIS_PREFIX, env.RESPONSES_TTL_DAYS * 86_400_000) },
        // Inline images of chat requests: stored here, referenced on the broker (ADR 0028).
        { provide: ClaimCheck, useValue: new ClaimCheck(new RedisObjectStore(redis, env.REDIS_PREFIX)) },
        {
          provide: EmbeddingsEndpoint,
          useValue: new EmbeddingsEndpoint({
            alias: env.EMBEDDINGS_MODEL_ALIAS,
            maxInputs: env.EMBEDDINGS_MAX_INPUTS,
            moderation,
            // Loaded on the first request: an access that serves no embeddings never holds the model.
            load: () => createEmbeddings(embeddingsConfigOf(env), { logger }),
            onLoadError: (error) => logger.error({ err: error }, 'the embedding model could not be loaded'),
            limits: admission,
          }),
        },
        { provide: ModelCatalog, useValue: new ModelCatalog(env.MODELS) },
        { provide: PriceBook, useValue: new PriceBook(env.MODEL_ROUTING ? JSON.parse(env.MODEL_ROUTING) : null) },
        // The usage ledger (ADR 0030): PostgreSQL at DATABASE_URL, else PGlite in this process. It
        // opens and migrates while the app already serves (UsageConsumer starts it): only the ledger's own calls wait for it.
        { provide: UsageLedger, useValue: new UsageLedger(() => openLedger(env, logger)) },
        { provide: ConfigDocuments, useValue: new ConfigDocuments(redis, env.REDIS_PREFIX) },
        { provide: RealtimeTokenService, useValue: new RealtimeTokenService(redis, env.REDIS_PREFIX) },
        { provide: PolicyBook, useValue: policies },
        // Read here for GET /admin/budgets; the rate-limiter alone writes them.
        { provide: SpendBudgets, useValue: new SpendBudgets(redis, rateLimitPrefix(env.REDIS_PREFIX)) },
        { provide: AdmissionFastPath, useValue: admission },
        SubmissionService,
        BudgetKeeper,
        // Run-time documents shared with rtc-push: a new version applies within a second, on every instance.
        // The routing document names the models served and prices their providers (the ledger's cost).
        documentWatch('routing', [ModelCatalog, PriceBook], (catalog: ModelCatalog, prices: PriceBook) => (body: unknown) => {
          prices.applyRouting(body);
          return applyRoutingDocument(catalog)(body);
        }, ROUTING_WATCH),
        documentWatch('words', [Moderation], applyWordsDocument),
        documentWatch('policies', [PolicyBook], (book: PolicyBook) => (body) => book.apply(body)),
      ],
    };
  }
}

async function openLedger(env: AccessEnv, logger: Logger) {
  const store = env.DATABASE_URL ? 'postgresql' : env.USAGE_DB_DIR ? `pglite in ${env.USAGE_DB_DIR}` : 'pglite in memory';
  try {
    const db = await openUsageDatabase({ url: env.DATABASE_URL, dataDir: env.USAGE_DB_DIR || undefined });
    logger.info({ store, migrations: await migrate(db) }, 'usage ledger ready');
    return db;
  } catch (error) {
    logger.error({ store, err: String(error) }, 'usage ledger unavailable: usage is not recorded (events wait on the broker) and reports answer 503');
    throw error;
  }
}
