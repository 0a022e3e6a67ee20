import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AdmissionControl, DeadlineQueue, type QueuedRequest } from '@aip/rate-limit';
import { ENV, LOGGER } from '@aip/runtime';
import type { Logger } from 'pino';
import type { RateLimiterEnv } from '../rate-limiter.config.ts';
import { AdmissionService, type Submitted } from './admission.service.ts';
import { admissionMetrics } from './admission.metrics.ts';

/**
 * Every QUEUE_PUMP_MS, the parked requests get another admission attempt as capacity frees, and
 * those whose deadline passed are refused. On shutdown, what an outage left in memory goes back
 * into the queue.
 */
@Injectable()
export class QueuePump implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  /** Parked requests taken from the queue that Redis refused to take back: put back on the next pass. */
  private readonly stranded: QueuedRequest[] = [];
  private lastSweep = 0;

  constructor(
    @Inject(AdmissionService) private readonly admission: AdmissionService,
    @Inject(DeadlineQueue) private readonly queue: DeadlineQueue,
    @Inject(AdmissionControl) private readonly control: AdmissionControl,
    @Inject(ENV) private readonly env: RateLimiterEnv,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.drain(), this.env.QUEUE_PUMP_MS);
  }

  async onApplicationShutdown() {
    clearInterval(this.timer);
    await this.restoreStranded().catch((error) =>
      this.logger.error({ taskIds: this.stranded.map((item) => item.requestId), err: String(error) }, 'parked requests could not be put back before shutdown: their tasks stay queued'),
    );
  }

  /**
   * The deadline queue's pump: rejects what expired, then gives each parked request one admission
   * attempt. An item is taken from the queue before it is handled, so an item whose handling fails
   * (broker or Redis trouble) goes back into the queue, and the pass stops there — the next tick
   * tries again. Nothing taken is ever dropped.
   */
  async drain() {
    if (this.pumping) return;
    this.pumping = true;
    try {
      await this.restoreStranded();
      for (const expired of await this.queue.takeExpired()) {
        const { event } = JSON.parse(expired.payload) as { event: Submitted };
        try {
          await this.admission.expire(event);
        } catch (error) {
          // Taken but not ended (broker or Redis trouble): back into the queue, expired, for the next pass.
          await this.putBack(expired, error);
        }
      }
      // Expired leases already stop counting in the admission script; the sweep only frees their
      // memory, so once a second is plenty (the pump itself runs every QUEUE_PUMP_MS).
      if (Date.now() - this.lastSweep >= 1_000) {
        this.lastSweep = Date.now();
        await this.control.expireStale();
      }
      // One pass over what waits: each parked request gets one admission attempt per tick.
      const waiting = await this.queue.size();
      for (let i = 0; i < waiting; i++) {
        const next = await this.queue.takeNext();
        if (!next) break;
        const { event, queuedSince } = JSON.parse(next.payload) as { event: Submitted; queuedSince: number };
        try {
          await this.admission.submit(event, queuedSince);
        } catch (error) {
          await this.putBack(next, error);
          break;
        }
      }
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'deadline queue pump failed');
    } finally {
      this.pumping = false;
    }
  }

  /** A parked request whose admission attempt failed goes back to wait for the next tick. */
  private async putBack(item: QueuedRequest, cause: unknown) {
    const taskId = item.requestId;
    try {
      await this.queue.enqueue(item);
      admissionMetrics.decisions.inc({ outcome: 'requeued', reason: 'error' });
      this.logger.warn({ taskId, err: String(cause) }, 'could not admit a parked request: it waits for the next pass');
    } catch (error) {
      // Redis refused the write right after handing the item over (an outage): kept in memory and
      // put back first on the next pass. The chaos suite lost such requests when they were dropped.
      this.stranded.push(item);
      admissionMetrics.decisions.inc({ outcome: 'stranded', reason: 'error' });
      this.logger.warn({ taskId, err: String(error), cause: String(cause) }, 'could not put a parked request back into the deadline queue: kept in memory, put back on the next pass');
    }
  }

  /** Puts back what an outage left in memory, oldest first; throws (the pass stops) while Redis still refuses. */
  private async restoreStranded() {
    while (this.stranded.length > 0) {
      await this.queue.enqueue(this.stranded[0]!);
      this.stranded.shift();
    }
  }
}
