import type { Redis } from 'ioredis';
import type { UserRef } from './inbox.store.ts';

/**
 * Which instances hold a user's connections: `rtc:{tenant:user}:presence` hash, field = instance
 * id, value = expiry (epoch ms). The key also expires, so a crashed instance's entries vanish
 * within the TTL without anyone cleaning up.
 */
export class PresenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  private key(user: UserRef) {
    return `${this.prefix}rtc:{${user.tenantId}:${user.userId}}:presence`;
  }

  /** The pub/sub channel an instance listens on for "user X has new pushes" doorbells. */
  channel(instanceId: string) {
    return `${this.prefix}rtc:instance:${instanceId}`;
  }

  async mark(users: readonly UserRef[], instanceId: string, now = Date.now()): Promise<void> {
    if (users.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const user of users) pipeline.hset(this.key(user), instanceId, String(now + this.ttlMs)).pexpire(this.key(user), this.ttlMs);
    await pipeline.exec();
  }

  async remove(user: UserRef, instanceId: string): Promise<void> {
    await this.redis.hdel(this.key(user), instanceId);
  }

  /** Instances that held the user within the TTL. */
  async instances(user: UserRef, now = Date.now()): Promise<string[]> {
    const entries = await this.redis.hgetall(this.key(user));
    return Object.entries(entries)
      .filter(([, expiry]) => Number(expiry) > now)
      .map(([instance]) => instance);
  }
}
