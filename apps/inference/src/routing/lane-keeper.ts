import type { Logger } from 'pino';

/** What the keeper needs of the worker registry (libs/rate-limit WorkerRegistry). */
export interface LaneRegistry {
  claimLane(workerId: string, lanes: number): Promise<number | undefined>;
  report(report: { workerId: string; slots: number; busy: number }): Promise<number | undefined>;
  drainLane(workerId: string, drainMs: number, lane?: number): Promise<number | undefined>;
  finishDrain(workerId: string, lane: number): Promise<void>;
  deregister(workerId: string): Promise<void>;
}

/** What it needs of the transport (libs/messaging RocketMQServer). */
export interface LaneTransport {
  readonly lanes: number;
  readonly inFlight: number;
  followLane(lane: number): { readonly lane: number; isUp(): boolean; quietSince(): number | undefined; stop(): Promise<void> };
}

export interface LaneKeeperOptions {
  workerId: string;
  slots: number;
  /** A drain ends once its lane has been quiet (connected, nothing delivered, nothing in hand) this long: longer than a message lease. */
  quietMs: number;
  /** How long a drain claim lasts without renewal; renewed on every tick. */
  drainMs: number;
  logger: Logger;
}

type Following = ReturnType<LaneTransport['followLane']>;

/**
 * The worker's side of session affinity. It holds one lane (the route by which the rate-limiter
 * sends this worker the requests of sessions pinned to it), heartbeats its free slots, and empties
 * the lane of a worker that died or left, so a request routed there is still answered. One tick
 * per heartbeat; a failed tick (Redis down) is logged and retried on the next.
 */
export class LaneKeeper {
  private own: Following | undefined;
  private drain: { following: Following; since: number } | undefined;
  private current: Promise<void> | undefined;
  private stopped = false;
  private warnedNoLane = false;

  constructor(
    private readonly registry: LaneRegistry,
    private readonly transport: LaneTransport,
    private readonly options: LaneKeeperOptions,
  ) {}

  get lane(): number | undefined {
    return this.own?.lane;
  }

  get draining(): number | undefined {
    return this.drain?.following.lane;
  }

  tick(now = Date.now()): Promise<void> {
    if (this.stopped || this.current) return this.current ?? Promise.resolve();
    this.current = (async () => {
      try {
        await this.keepOwnLane();
        await this.keepDraining(now);
      } catch (error) {
        this.options.logger.warn({ err: String(error) }, 'lane keeping failed: retrying on the next heartbeat');
      } finally {
        this.current = undefined;
      }
    })();
    return this.current;
  }

  /** Graceful stop: the lane is left to be drained by another worker; an unfinished drain lapses. */
  async stop(): Promise<void> {
    const { workerId } = this.options;
    this.stopped = true;
    await this.current; // a heartbeat landing after the deregistration would make the worker look alive again
    await this.registry.deregister(workerId).catch(() => undefined);
    await Promise.all([this.own?.stop(), this.drain?.following.stop()]);
    this.own = undefined;
    this.drain = undefined;
  }

  private async keepOwnLane() {
    const { workerId, slots, logger } = this.options;
    const report = () => this.registry.report({ workerId, slots, busy: this.transport.inFlight });
    if (this.transport.lanes === 0) return void (await report());
    const claimedNow = !this.own;
    if (!this.own) {
      const lane = await this.registry.claimLane(workerId, this.transport.lanes);
      if (lane === undefined && !this.warnedNoLane) {
        this.warnedNoLane = true;
        logger.warn({ lanes: this.transport.lanes }, 'every lane has a live owner: serving the shared group only (no session affinity for this worker)');
      }
      if (lane !== undefined) {
        this.own = this.transport.followLane(lane);
        logger.info({ lane }, 'holding lane');
      }
    }
    // Until its lane receives, the worker only keeps its claim alive (a claim counts as a
    // heartbeat): a worker that has never reported cannot be chosen, so nothing is routed to a
    // lane before anyone reads it.
    if (this.own && !this.own.isUp()) {
      if (!claimedNow) await this.registry.claimLane(workerId, this.transport.lanes);
      return;
    }
    const owned = await report();
    if (this.own && owned !== this.own.lane) {
      // Our heartbeat lapsed (a long pause) and another worker took the lane over: let it go.
      logger.warn({ lane: this.own.lane }, 'lane taken over while this worker was unresponsive: claiming another');
      this.release(this.own);
      this.own = undefined;
    }
  }

  private async keepDraining(now: number) {
    const { workerId, quietMs, drainMs, logger } = this.options;
    if (this.transport.lanes === 0) return;
    if (!this.drain) {
      const lane = await this.registry.drainLane(workerId, drainMs);
      if (lane === undefined) return;
      this.drain = { following: this.transport.followLane(lane), since: now };
      logger.info({ lane }, 'draining the lane of a worker that is gone');
      return;
    }
    const { following, since } = this.drain;
    // Quiet means connected with nothing delivered and nothing in hand: a long generation, or a
    // broker outage that keeps the drain from receiving at all, does not count.
    const quietSince = following.quietSince();
    if (quietSince !== undefined && now - Math.max(since, quietSince) >= quietMs) {
      this.drain = undefined;
      await this.registry.finishDrain(workerId, following.lane);
      this.release(following);
      logger.info({ lane: following.lane }, 'orphaned lane drained');
      return;
    }
    if ((await this.registry.drainLane(workerId, drainMs, following.lane)) === undefined) {
      this.drain = undefined;
      this.release(following);
      logger.info({ lane: following.lane }, 'drain handed over: the lane has a live owner again, or another worker drains it');
    }
  }

  /** Stops following a lane in the background: its running handlers may take a while, heartbeats may not wait. */
  private release(following: Following) {
    void following.stop().catch((error: unknown) => this.options.logger.warn({ lane: following.lane, err: String(error) }, 'could not release a lane'));
  }
}
