import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ApiKeyStore } from '@aip/keys';
import { MessagingModule } from '@aip/messaging';
import { AdmissionControl, AdmissionGate, AdmissionTerms, DeadlineQueue, PolicyBook, rateLimitPrefix, SpendBudgets, WorkerRegistry } from '@aip/rate-limit';
import { PriceBook } from '@aip/usage';
import { ConfigDocuments, connectionOf, documentWatch, ENV, HealthController, LOGGER, OpenApiController, provideOpenApi, REDIS } from '@aip/runtime';
import { TaskStore } from '@aip/tasks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { appOpenApi } from './rate-limiter.openapi.ts';
import { AdmissionConsumer } from './admission/admission.consumer.ts';
import { AdmissionService } from './admission/admission.service.ts';
import { QueuePump } from './admission/queue-pump.ts';
import { TermsPublisher } from './admission/terms-publisher.ts';
import type { RateLimiterEnv } from './rate-limiter.config.ts';

@Module({})
export class AppModule {
  static register(env: RateLimiterEnv, redis: Redis, logger: Logger): DynamicModule {
    const prefix = rateLimitPrefix(env.REDIS_PREFIX);
    const control = new AdmissionControl(redis, { prefix });
    const workers = new WorkerRegistry(redis, { prefix });
    // Spend budgets reserve a request's dearest possible cost at the routing document's prices.
    const prices = new PriceBook(env.MODEL_ROUTING ? JSON.parse(env.MODEL_ROUTING) : null);
    const budgets = new SpendBudgets(redis, prefix);
    return {
      module: AppModule,
      imports: [MessagingModule.forRoot({ connection: connectionOf(env), source: 'rate-limiter', logger }), TerminusModule.forRoot({ logger: false })],
      controllers: [AdmissionConsumer, HealthController, OpenApiController],
      providers: [
        { provide: ENV, useValue: env },
        { provide: REDIS, useValue: redis },
        { provide: LOGGER, useValue: logger },
        provideOpenApi(appOpenApi),
        { provide: AdmissionControl, useValue: control },
        { provide: AdmissionGate, useValue: new AdmissionGate(control, workers, { budgets, estimate: (request) => prices.estimateNanos(request.model, request.estimatedPromptTokens, request.maxTokens) }) },
        { provide: SpendBudgets, useValue: budgets },
        { provide: PriceBook, useValue: prices },
        { provide: AdmissionTerms, useValue: new AdmissionTerms(redis, prefix) },
        { provide: DeadlineQueue, useValue: new DeadlineQueue(redis, { prefix }) },
        { provide: ApiKeyStore, useValue: new ApiKeyStore(redis, env.REDIS_PREFIX) },
        { provide: TaskStore, useValue: new TaskStore(redis, { prefix: env.REDIS_PREFIX }) },
        { provide: ConfigDocuments, useValue: new ConfigDocuments(redis, env.REDIS_PREFIX) },
        { provide: PolicyBook, useValue: new PolicyBook(env.DEFAULT_POLICY) },
        AdmissionService,
        QueuePump,
        TermsPublisher,
        documentWatch('policies', [PolicyBook], (book: PolicyBook) => (body) => book.apply(body)),
        documentWatch('routing', [PriceBook], (book: PriceBook) => (body) => {
          book.applyRouting(body);
          return {};
        }),
      ],
    };
  }
}
