import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { EventPublisher } from '@aip/messaging';
import { ENV, LOGGER, REDIS } from '@aip/runtime';
import { TaskStore, type OrphanedRun } from '@aip/tasks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { InferenceEnv } from '../inference.config.ts';
import { generationMetrics } from './generation.metrics.ts';

/** What the client of a request whose worker died, with no delivery left, is told. */
export const WORKER_LOST = { code: 'worker_lost', message: 'The worker running this request stopped before it finished; retry.' } as const;

/**
 * Ends the tasks of runs whose worker died where no redelivery will follow (the request's last
 * delivery: the broker dead-letters the message and no handler runs again), or none came within
 * RUN_REDELIVERY_GRACE_MS, and gives their reservations back. Every worker sweeps: a task is
 * ended once, whoever finds it (found by the chaos suite: 1 request of 5,256 still running for
 * ever after 100 worker kills).
 */
@Injectable()
export class OrphanedRunSweep implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;
  /** No sweep before this instant: after Redis was unreachable, live runs get a lease to beat again. */
  private quietUntil = 0;

  constructor(
    @Inject(TaskStore) private readonly tasks: TaskStore,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(REDIS) redis: Redis,
    @Inject(ENV) private readonly env: InferenceEnv,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // Every worker's heartbeats failed while Redis was away: a run silent for that long is not
    // dead. Once the connection is back, wait one lease, in which every live run beats again.
    redis.on('ready', () => (this.quietUntil = Date.now() + env.LEASE_MS));
  }

  onApplicationBootstrap() {
    // A fifth of a lease: an orphaned run ends at most that long after its alive-until passed.
    this.timer = setInterval(() => void this.sweep(), Math.floor(this.env.LEASE_MS / 5));
  }

  beforeApplicationShutdown() {
    clearInterval(this.timer);
  }

  /** One pass; the runs it ended. Never throws: the next tick tries again. */
  async sweep(now?: number): Promise<OrphanedRun[]> {
    if (this.sweeping || Date.now() < this.quietUntil) return [];
    this.sweeping = true;
    try {
      const ended = await this.tasks.endOrphanedRuns(WORKER_LOST, now);
      for (const run of ended) await this.release(run);
      return ended;
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'sweep of orphaned runs failed: retried on the next tick');
      return [];
    } finally {
      this.sweeping = false;
    }
  }

  /** The limiter reconciles the reservation as for any failed request; logged and counted. */
  private async release(run: OrphanedRun) {
    generationMetrics.generations.inc({ model: run.model, provider: 'none', outcome: 'orphaned' });
    this.logger.warn({ taskId: run.taskId, attempt: run.attempt, deadWorker: run.workerId }, 'ended the task of a run whose worker stopped: no delivery of it is left');
    await this.publisher
      .publish('ai.inference.failed', { taskId: run.taskId, apiKeyId: run.keyId, ...(run.workerId ? { workerId: run.workerId } : {}), ...(run.reservationId ? { reservationId: run.reservationId } : {}), error: WORKER_LOST }, { tenantId: run.tenantId })
      .catch((error: unknown) => this.logger.error({ taskId: run.taskId, err: String(error) }, 'could not tell the limiter an orphaned run ended: its reservation is freed when its lease runs out'));
  }
}
