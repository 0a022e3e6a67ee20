import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CooldownStore, ModelRouter } from '@aip/llm';
import { MessagingModule } from '@aip/messaging';
import { connectionOf, ENV, HealthController, LOGGER, REDIS } from '@aip/runtime';
import { SessionHistoryStore, TaskStore } from '@aip/tasks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { GenerationConsumer } from './generation/generation.consumer.ts';
import { GenerationService } from './generation/generation.service.ts';
import { KNOWLEDGE, type KnowledgeSearch } from './generation/grounding.ts';
import type { InferenceEnv } from './inference.config.ts';

@Module({})
export class AppModule {
  static register(env: InferenceEnv, redis: Redis, logger: Logger, knowledge?: KnowledgeSearch): DynamicModule {
    return {
      module: AppModule,
      imports: [MessagingModule.forRoot({ connection: connectionOf(env), source: 'inference', logger }), TerminusModule.forRoot({ logger: false })],
      controllers: [GenerationConsumer, HealthController],
      providers: [
        { provide: ENV, useValue: env },
        { provide: REDIS, useValue: redis },
        { provide: LOGGER, useValue: logger },
        { provide: TaskStore, useValue: new TaskStore(redis, { prefix: env.REDIS_PREFIX }) },
        { provide: SessionHistoryStore, useValue: new SessionHistoryStore(redis, { prefix: env.REDIS_PREFIX }) },
        { provide: ModelRouter, useValue: new ModelRouter(env.MODEL_ROUTING ? JSON.parse(env.MODEL_ROUTING) : undefined, { cooldowns: new CooldownStore(redis, { prefix: env.REDIS_PREFIX }), logger }) },
        ...(knowledge ? [{ provide: KNOWLEDGE, useValue: knowledge }] : []),
        GenerationService,
      ],
    };
  }
}
