import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ApiKeyStore } from '@aip/keys';
import { MessagingModule } from '@aip/messaging';
import { AdmissionControl, AdmissionGate, AdmissionTerms, DeadlineQueue, PolicyBook, rateLimitPrefix, WorkerRegistry } from '@aip/rate-limit';
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
        { provide: AdmissionGate, useValue: new AdmissionGate(control, workers) },
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
      ],
    };
  }
}
