import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ENV, LOGGER } from '@aip/runtime';
import type { Logger } from 'pino';
import type { IntentSchedulerEnv } from '../intent-scheduler.config.ts';
import { SchedulerMetrics } from '../metrics/scheduler.metrics.ts';
import { ShardRunner } from '../sharding/shard-runner.ts';

const NAME = 'intent-tick';

/** Every `INTENT_TICK_MS`: one pass over the shards (never two at once); drained on shutdown. */
@Injectable()
export class TickJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(SchedulerRegistry) private readonly scheduler: SchedulerRegistry,
    @Inject(ShardRunner) private readonly runner: ShardRunner,
    @Inject(SchedulerMetrics) private readonly metrics: SchedulerMetrics,
    @Inject(ENV) private readonly env: IntentSchedulerEnv,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.addInterval(NAME, setInterval(() => void this.tick(), this.env.INTENT_TICK_MS));
  }

  async tick(): Promise<void> {
    const stop = this.metrics.tickSeconds.startTimer();
    const running = this.runner.tick();
    if (!running) return; // the previous tick is still working
    try {
      const results = await running;
      for (const result of results.values()) this.metrics.shards.inc({ result });
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'tick failed');
    } finally {
      stop();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.scheduler.doesExist('interval', NAME)) this.scheduler.deleteInterval(NAME);
    await this.runner.stop();
  }
}
