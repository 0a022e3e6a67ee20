import type { Logger } from 'pino';
import type { ShardLease } from './shard-lock.ts';
import { shardOrder } from './shard.ts';

/** Thrown by shard work whose fence check failed: another replica owns the shard now. */
export class LockLostError extends Error {
  override readonly name = 'LockLostError';
}

export interface ShardRunnerDeps {
  shards: number;
  locks: { acquire(shard: number): Promise<ShardLease | undefined> };
  /** A shard worked within the last half tick is left alone (replicas ticking out of phase). */
  freshness: { isFresh(shard: number): Promise<boolean>; markFresh(shard: number): Promise<void> };
  work(shard: number, lease: ShardLease): Promise<void>;
  logger: Logger;
  /** Where this replica starts this tick; random by default. */
  start?: () => number;
}

export type ShardResult = 'worked' | 'locked' | 'recent' | 'lost' | 'error';

/**
 * One tick of one replica: try every shard (from a random start), work the ones whose lock it
 * gets and that nobody worked in the last half tick, always release. A shard's failure is logged
 * and does not stop the others.
 */
export class ShardRunner {
  private stopped = false;
  private running: Promise<Map<number, ShardResult>> | undefined;

  constructor(private readonly deps: ShardRunnerDeps) {}

  /** Runs one tick unless one is still running (a slow tick is never overlapped by the next). */
  tick(): Promise<Map<number, ShardResult>> | undefined {
    if (this.running || this.stopped) return undefined;
    this.running = this.runOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops starting shards and waits for the running tick. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  private async runOnce(): Promise<Map<number, ShardResult>> {
    const { shards, locks, freshness, work, logger } = this.deps;
    const results = new Map<number, ShardResult>();
    const start = this.deps.start?.() ?? Math.floor(Math.random() * shards);
    for (const shard of shardOrder(shards, start)) {
      if (this.stopped) break;
      let lease: ShardLease | undefined;
      try {
        lease = await locks.acquire(shard);
        if (!lease) {
          results.set(shard, 'locked');
          continue;
        }
        // Checked under the lock: a replica that just finished this shard released it a moment ago.
        if (await freshness.isFresh(shard)) {
          results.set(shard, 'recent');
          continue;
        }
        await work(shard, lease);
        await freshness.markFresh(shard);
        results.set(shard, 'worked');
      } catch (error) {
        results.set(shard, error instanceof LockLostError ? 'lost' : 'error');
        logger.warn({ shard, err: String(error) }, error instanceof LockLostError ? 'shard lock lost; stopped working it' : 'shard work failed');
      } finally {
        await lease?.release().catch(() => undefined);
      }
    }
    return results;
  }
}
