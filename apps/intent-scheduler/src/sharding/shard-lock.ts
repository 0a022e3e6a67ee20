import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

// Compare-and-act: only the holder of the token may extend or release, so a replica whose lock
// expired (a long GC pause) cannot release or extend the lock another replica took since.
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** A held shard lock. `check()` is the fence: call it right before an effect; false = stop. */
export interface ShardLease {
  readonly shard: number;
  readonly token: string;
  /** Still ours? Extends the lock by its full lifetime when it is. */
  check(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * One runner per shard: `SET key token NX PX ms`. A crashed runner's lock expires after `lockMs`;
 * a live one extends it at every fence check.
 */
export class ShardLocks {
  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string; lockMs: number; owner: string },
  ) {}

  private key(shard: number) {
    return `${this.options.prefix}lock:shard:${shard}`;
  }

  async acquire(shard: number): Promise<ShardLease | undefined> {
    const key = this.key(shard);
    const token = `${this.options.owner}:${randomUUID()}`;
    const ok = await this.redis.set(key, token, 'PX', this.options.lockMs, 'NX');
    if (ok !== 'OK') return undefined;
    return {
      shard,
      token,
      check: async () => (await this.redis.eval(EXTEND, 1, key, token, this.options.lockMs)) === 1,
      release: async () => {
        await this.redis.eval(RELEASE, 1, key, token);
      },
    };
  }

  /** Who holds a shard now (diagnostics and tests). */
  holder(shard: number): Promise<string | null> {
    return this.redis.get(this.key(shard));
  }
}
