import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { RocketMQServer } from '@aip/messaging';
import { rateLimitPrefix, WorkerRegistry } from '@aip/rate-limit';
import { ENV, LOGGER, REDIS } from '@aip/runtime';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { InferenceEnv } from '../inference.config.ts';
import { LaneKeeper } from './lane-keeper.ts';

/**
 * The worker's heartbeat (free slots, for the limiter's capacity check) and lanes (session
 * affinity): its own lane, and the lanes of workers that are gone, emptied so nothing routed
 * there waits. Ticks from the moment the consumers are subscribed until the app stops.
 */
@Injectable()
export class LaneHeartbeat implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly keeper: LaneKeeper;
  private readonly registry: WorkerRegistry;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    @Inject(RocketMQServer) private readonly server: RocketMQServer,
    @Inject(REDIS) redis: Redis,
    @Inject(ENV) private readonly env: InferenceEnv,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.registry = new WorkerRegistry(redis, { prefix: rateLimitPrefix(env.REDIS_PREFIX), heartbeatTtlMs: env.HEARTBEAT_TTL_MS });
    this.keeper = new LaneKeeper(this.registry, server, {
      workerId: env.WORKER_ID,
      slots: env.INFERENCE_SLOTS,
      // Longer than a lease: a message the dead worker held comes back once its lease runs out.
      quietMs: env.LEASE_MS + 10_000,
      drainMs: env.HEARTBEAT_TTL_MS,
      logger,
    });
  }

  /**
   * The first tick completes before the app reports ready: startPlatformApp subscribes the
   * consumers before the app initialises, so `listening` has resolved by now, and a session routed
   * the moment this worker is up finds its lane (the session-affinity suite caught a worker that
   * answered health before it held a lane).
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.server.listening;
    if (this.stopped) return;
    await this.keeper.tick();
    this.timer = setInterval(() => void this.keeper.tick(), Math.max(200, Math.floor(this.env.HEARTBEAT_TTL_MS / 5)));
  }

  /**
   * A request session affinity routed to `workerId` has been taken (by this worker, or by one
   * draining that worker's lane): it stops counting as that worker's load on top of its report.
   * Not awaited by the caller; a failure only leaves the estimate high until a heartbeat TTL.
   */
  taken(workerId: string, taskId: string): void {
    this.registry.taken(workerId, taskId).catch((error: unknown) => this.logger.warn({ taskId, err: String(error) }, 'could not mark a routed request as taken'));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.keeper.stop();
  }
}
