import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CooldownStore, ModelRouter, modelRoutingSchema, openRoutingSecrets, SecretBox } from '@aip/llm';
import { MessagingModule } from '@aip/messaging';
import { ConfigDocuments, connectionOf, documentWatch, ENV, HealthController, LOGGER, OpenApiController, provideOpenApi, REDIS, ROUTING_WATCH } from '@aip/runtime';
import { ClaimCheck, RedisObjectStore, ProfileStore, ConversationStore, TaskStore } from '@aip/tasks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { appOpenApi } from './inference.openapi.ts';
import { GenerationConsumer } from './generation/generation.consumer.ts';
import { GenerationService } from './generation/generation.service.ts';
import { KNOWLEDGE, type KnowledgeSearch } from './generation/grounding.ts';
import { OrphanedRunSweep } from './generation/orphaned-run.sweep.ts';
import type { InferenceEnv } from './inference.config.ts';
import { LaneHeartbeat } from './routing/lane-heartbeat.ts';

@Module({})
export class AppModule {
  static register(env: InferenceEnv, redis: Redis, logger: Logger, knowledge?: KnowledgeSearch): DynamicModule {
    return {
      module: AppModule,
      imports: [MessagingModule.forRoot({ connection: connectionOf(env), source: 'inference', logger }), TerminusModule.forRoot({ logger: false })],
      controllers: [GenerationConsumer, HealthController, OpenApiController],
      providers: [
        { provide: ENV, useValue: env },
        { provide: REDIS, useValue: redis },
        { provide: LOGGER, useValue: logger },
        provideOpenApi(appOpenApi),
        { provide: TaskStore, useValue: new TaskStore(redis, { prefix: env.REDIS_PREFIX }) },
        { provide: ConversationStore, useValue: new ConversationStore(redis, { prefix: env.REDIS_PREFIX, retentionMs: env.CONVERSATION_RETENTION_DAYS }) },
        { provide: ProfileStore, useValue: new ProfileStore(redis, { prefix: env.REDIS_PREFIX }) },
        { provide: ModelRouter, useValue: new ModelRouter(env.MODEL_ROUTING ? JSON.parse(env.MODEL_ROUTING) : undefined, { cooldowns: new CooldownStore(redis, { prefix: env.REDIS_PREFIX }), logger }) },
        ...(knowledge ? [{ provide: KNOWLEDGE, useValue: knowledge }] : []),
        // The images access stored for the requests (ADR 0028); access sweeps what expired.
        { provide: ClaimCheck, useValue: new ClaimCheck(new RedisObjectStore(redis, env.REDIS_PREFIX)) },
        { provide: ConfigDocuments, useValue: new ConfigDocuments(redis, env.REDIS_PREFIX) },
        GenerationService,
        OrphanedRunSweep,
        LaneHeartbeat,
        // Model routing changed at run time (PUT /admin/config/routing on access): the chains are
        // swapped; deleted (DELETE), the start-up MODEL_ROUTING is back. Provider secrets arrive
        // sealed when access has CONFIG_ENCRYPTION_KEY: opened here, kept in memory only.
        documentWatch('routing', [ModelRouter], (router: ModelRouter) => {
          const box = env.CONFIG_ENCRYPTION_KEY ? new SecretBox(env.CONFIG_ENCRYPTION_KEY) : undefined;
          return async (body) => {
            await router.update(body === null ? router.startup : openRoutingSecrets(modelRoutingSchema.parse(body), box));
            return { models: router.aliases() };
          };
        }, ROUTING_WATCH),
      ],
    };
  }
}
