import { Controller, Get, Header, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { RocketMQHealthIndicator } from '@aip/messaging';
import type { Redis } from 'ioredis';
import { register } from 'prom-client';
import type { z } from 'zod';
import type { livenessSchema } from './health.schema.ts';
import { REDIS } from './tokens.ts';

/** Liveness, readiness (broker and Redis) and Prometheus metrics of every app. */
@Controller()
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(RocketMQHealthIndicator) private readonly rocketmq: RocketMQHealthIndicator,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  @Get('health/live')
  live(): z.infer<typeof livenessSchema> {
    return { status: 'ok' };
  }

  @Get('health/ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.rocketmq.isHealthy('rocketmq'),
      async () => {
        const session = this.indicators.check('redis');
        const started = Date.now();
        try {
          await Promise.race([this.redis.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 1 s')), 1_000))]);
          return session.up({ latencyMs: Date.now() - started });
        } catch (error) {
          return session.down({ error: (error as Error).message });
        }
      },
    ]);
  }

  @Get('metrics')
  @Header('content-type', register.contentType)
  metrics() {
    return register.metrics();
  }
}
