import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { probeTopic } from '@aip/contracts';
import { pino, type Logger } from 'pino';
import type { RocketMQConnectionOptions } from './common/rocketmq.options.ts';
import { BrokerProbe } from './health/broker.probe.ts';
import { BrokerHealth, RocketMQHealthIndicator } from './health/rocketmq.health.ts';
import { MessagingMetrics } from './metrics/messaging.metrics.ts';
import { EventPublisher } from './publisher/event.publisher.ts';

export interface MessagingModuleOptions {
  connection: RocketMQConnectionOptions;
  /** The app's name, written into every envelope's `source`. */
  source: string;
  /** Upper bound of one publish (a client waiting on it gets a 503 after this, never a hang). */
  sendTimeoutMs?: number;
  logger?: Logger;
}

export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

class MessagingLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(BrokerHealth) private readonly health: BrokerHealth,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.close();
    this.health.probe.close();
  }
}

/**
 * Publisher, broker health and metrics for an app. Consumers are attached separately with
 * `app.connectMicroservice({ strategy: new RocketMQServer({ ..., health }) })`, sharing BrokerHealth.
 */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    const logger = options.logger ?? pino({ name: options.source });
    return {
      module: MessagingModule,
      global: true,
      imports: [TerminusModule],
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        { provide: MessagingMetrics, useFactory: () => MessagingMetrics.for() },
        { provide: BrokerHealth, useFactory: () => new BrokerHealth(new BrokerProbe(options.connection, probeTopic(options.source))) },
        {
          provide: EventPublisher,
          inject: [MessagingMetrics],
          useFactory: (metrics: MessagingMetrics) =>
            new EventPublisher({ connection: options.connection, source: options.source, logger, metrics, ...(options.sendTimeoutMs ? { sendTimeoutMs: options.sendTimeoutMs } : {}) }),
        },
        RocketMQHealthIndicator,
        MessagingLifecycle,
      ],
      exports: [EventPublisher, BrokerHealth, RocketMQHealthIndicator, MessagingMetrics],
    };
  }
}
