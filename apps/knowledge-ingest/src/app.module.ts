import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ApiKeyStore } from '@aip/keys';
import { IngestPipeline, KnowledgeRegistry, Retriever, type KnowledgeStore } from '@aip/knowledge';
import { MessagingModule } from '@aip/messaging';
import { ApiKeyGuard, connectionOf, ENV, HealthController, REDIS } from '@aip/runtime';
import type { Embeddings } from '@langchain/core/embeddings';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ChangeService } from './changes/change.service.ts';
import { kbChangeConsumer } from './changes/kb-change.consumer.ts';
import { KbEvents } from './common/kb-events.ts';
import { KNOWLEDGE_STORE, LOGGER } from './common/tokens.ts';
import { ContentStore } from './content/content.store.ts';
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
  embeddings: { embeddings: Pick<Embeddings, 'embedDocuments' | 'embedQuery'>; modelId: string };
}

@Module({})
export class AppModule {
  static register(env: KnowledgeIngestEnv, deps: KnowledgeIngestDeps): DynamicModule {
    const { redis, logger, store, embeddings } = deps;
    const registry = new KnowledgeRegistry(redis, env.REDIS_PREFIX);
    return {
      module: AppModule,
      imports: [MessagingModule.forRoot({ connection: connectionOf(env), source: 'knowledge-ingest', sendTimeoutMs: env.PUBLISH_TIMEOUT_MS, logger }), TerminusModule.forRoot({ logger: false })],
      controllers: [
        KnowledgeBasesController,
        DocumentsController,
        QueryController,
        NotificationsController,
        HealthController,
        kbChangeConsumer({ topic: env.KB_CHANGE_TOPIC, group: env.KB_CONSUMER_GROUP, concurrency: env.INGEST_CONCURRENCY, leaseMs: env.LEASE_MS }),
      ],
      providers: [
        { provide: ENV, useValue: env },
        { provide: REDIS, useValue: redis },
        { provide: LOGGER, useValue: logger },
        { provide: KNOWLEDGE_STORE, useValue: store },
        { provide: ApiKeyStore, useValue: new ApiKeyStore(redis, env.REDIS_PREFIX) },
        { provide: KnowledgeRegistry, useValue: registry },
        { provide: ContentStore, useValue: new ContentStore(env.KNOWLEDGE_DATA_DIR, env.OBJECT_STORE_DIR) },
        { provide: IngestPipeline, useValue: new IngestPipeline({ store, embeddings: embeddings.embeddings, modelId: embeddings.modelId, registry, embedBatchSize: env.EMBED_BATCH_SIZE }) },
        { provide: Retriever, useValue: new Retriever({ store, embeddings: embeddings.embeddings, versions: registry }) },
        ApiKeyGuard,
        KbEvents,
        ChangeService,
        DocumentsService,
      ],
    };
  }
}
