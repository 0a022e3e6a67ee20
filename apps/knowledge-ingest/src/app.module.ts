import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ApiKeyStore } from '@aip/keys';
import { IngestPipeline, KnowledgeRegistry, ParseWorkerPool, Retriever, type KnowledgeStore } from '@aip/knowledge';
import { MessagingModule } from '@aip/messaging';
import { ApiKeyGuard, connectionOf, ENV, HealthController, LOGGER, OpenApiController, provideOpenApi, REDIS } from '@aip/runtime';
import type { Embeddings } from '@langchain/core/embeddings';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { appOpenApi } from './knowledge-ingest.openapi.ts';
import { ChangeService } from './changes/change.service.ts';
import { KbChangeConsumer } from './changes/kb-change.consumer.ts';
import { TenantFairScheduler } from './changes/tenant-fair.scheduler.ts';
import { KbEvents } from './common/kb-events.ts';
import { KNOWLEDGE_STORE } from './common/tokens.ts';
import { ContentStore } from './content/content.store.ts';
import { UploadQuota } from './content/upload.quota.ts';
import { DocumentsController } from './documents/documents.controller.ts';
import { DocumentsService } from './documents/documents.service.ts';
import type { KnowledgeIngestEnv } from './knowledge-ingest.config.ts';
import { KnowledgeBasesController } from './knowledge-bases/knowledge-bases.controller.ts';
import { NotificationsController } from './notifications/notifications.controller.ts';
import { QueryController } from './query/query.controller.ts';

export interface KnowledgeIngestDeps {
  redis: Redis;
  logger: Logger;
  store: KnowledgeStore;
  /** `parallelism`: embedding calls worth having in flight at once (`EmbeddingModel.parallelism`; default 1). */
  embeddings: { embeddings: Pick<Embeddings, 'embedDocuments' | 'embedQuery'>; modelId: string; parallelism?: number };
}

@Module({})
export class AppModule implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(TenantFairScheduler) private readonly turns: TenantFairScheduler,
    @Inject(ParseWorkerPool) private readonly parser: ParseWorkerPool,
  ) {}

  static register(env: KnowledgeIngestEnv, deps: KnowledgeIngestDeps): DynamicModule {
    const { redis, logger, store, embeddings } = deps;
    const registry = new KnowledgeRegistry(redis, env.REDIS_PREFIX);
    // Parsing and chunking run in worker threads (one per change applied at once), within a time and a heap limit.
    const parser = new ParseWorkerPool({ size: env.INGEST_CONCURRENCY, timeoutMs: env.PARSE_TIMEOUT_MS, memoryMb: env.PARSE_MEMORY_MB });
    const limits = { maxPdfPages: env.MAX_PDF_PAGES, maxChunks: env.MAX_CHUNKS_PER_DOCUMENT };
    const turns = new TenantFairScheduler({ concurrency: env.INGEST_CONCURRENCY, perTenant: env.INGEST_TENANT_CONCURRENCY ?? env.INGEST_CONCURRENCY });
    return {
      module: AppModule,
      imports: [MessagingModule.forRoot({ connection: connectionOf(env), source: 'knowledge-ingest', sendTimeoutMs: env.PUBLISH_TIMEOUT_MS, logger }), TerminusModule.forRoot({ logger: false })],
      controllers: [
        KnowledgeBasesController,
        DocumentsController,
        QueryController,
        NotificationsController,
        HealthController,
        OpenApiController,
        // The transport holds up to INGEST_PREFETCH changes (app.options.ts); the scheduler applies INGEST_CONCURRENCY of them at once (ADR 0015).
        KbChangeConsumer,
      ],
      providers: [
        { provide: ENV, useValue: env },
        { provide: REDIS, useValue: redis },
        { provide: LOGGER, useValue: logger },
        provideOpenApi(appOpenApi),
        { provide: KNOWLEDGE_STORE, useValue: store },
        { provide: ApiKeyStore, useValue: new ApiKeyStore(redis, env.REDIS_PREFIX) },
        { provide: KnowledgeRegistry, useValue: registry },
        { provide: ContentStore, useValue: new ContentStore(env.KNOWLEDGE_DATA_DIR, env.OBJECT_STORE_DIR, env.OBJECT_STORE_MAPPINGS) },
        { provide: UploadQuota, useValue: new UploadQuota(redis, env.REDIS_PREFIX, { maxDocuments: env.UPLOAD_QUOTA_DOCUMENTS, maxBytes: env.UPLOAD_QUOTA_BYTES, ttlMs: env.UPLOAD_QUOTA_TTL_MS }) },
        { provide: ParseWorkerPool, useValue: parser },
        { provide: TenantFairScheduler, useValue: turns },
        // Documents applied at once share embedding calls; as many calls run at once as the embedder has sessions.
        { provide: IngestPipeline, useValue: new IngestPipeline({ store, embeddings: embeddings.embeddings, modelId: embeddings.modelId, registry, embedBatchSize: env.EMBED_BATCH_SIZE, embedConcurrency: embeddings.parallelism ?? 1, limits, prepare: parser.prepare }) },
        { provide: Retriever, useValue: new Retriever({ store, embeddings: embeddings.embeddings, versions: registry }) },
        ApiKeyGuard,
        KbEvents,
        ChangeService,
        DocumentsService,
      ],
    };
  }

  /**
   * Before the consumer drains: changes still waiting for their turn fail at once and go back to
   * the broker (redelivered in order), so the drain only waits for the changes being applied.
   */
  beforeApplicationShutdown(): void {
    this.turns.close();
  }

  /** After the drain: no change is being parsed any more. */
  async onApplicationShutdown(): Promise<void> {
    await this.parser.close();
  }
}
