import type { Redis } from 'ioredis';
import { z } from 'zod';
import { isTimeZone, quietHoursSchema } from '@aip/contracts';

/** What a user (or the app acting for them) sets: `PUT /v1/users/{userId}/proactive-settings`. */
export const proactiveSettingsSchema = z.strictObject({
  timezone: z.string().refine(isTimeZone, 'an IANA time zone, e.g. "Asia/Shanghai"').optional(),
  optOut: z.boolean().default(false),
  /** Own quiet hours; null = none at all; absent = the catalogue's default. */
  quietHours: quietHoursSchema.nullable().optional(),
});
export type ProactiveSettings = z.infer<typeof proactiveSettingsSchema>;

const DAY_MS = 24 * 3_600_000;

// Check and count in one step: the notice path (any replica) and the shard worker may push to the
// same user at the same instant, and both must not pass at cap - 1.
const RESERVE_DAILY = `
local n = redis.call('INCR', KEYS[1])
if n > tonumber(ARGV[1]) then redis.call('DECR', KEYS[1]) return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;
// Never below what was reserved, and never a counter without TTL on an expired day.
const RELEASE_DAILY = `if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then return redis.call('DECR', KEYS[1]) end return 0`;

/**
 * Per-user state of the proactive path, always keyed by tenant: settings, cooldowns, daily counts,
 * dedupe claims and interests (`intent:user:{tenant:user}:*`, `intent:interest:{tenant}:*`).
 */
export class UserStateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private user(tenantId: string, userId: string) {
    return `${this.prefix}user:{${tenantId}:${userId}}`;
  }

  async settings(tenantId: string, userId: string): Promise<ProactiveSettings | undefined> {
    const raw = await this.redis.get(`${this.user(tenantId, userId)}:settings`);
    return raw ? proactiveSettingsSchema.parse(JSON.parse(raw)) : undefined;
  }

  async putSettings(tenantId: string, userId: string, settings: ProactiveSettings): Promise<void> {
    await this.redis.set(`${this.user(tenantId, userId)}:settings`, JSON.stringify(settings));
  }

  /** When `intent` was last pushed to the user (within its cooldown), and how many pushes they had on `day`. */
  async history(tenantId: string, userId: string, intent: string, day: string): Promise<{ lastSentAt?: number; sentToday: number }> {
    const base = this.user(tenantId, userId);
    const [lastSentAt, sentToday] = await this.redis.mget(`${base}:cooldown:${intent}`, `${base}:sent:${day}`);
    return { ...(lastSentAt ? { lastSentAt: Number(lastSentAt) } : {}), sentToday: Number(sentToday ?? 0) };
  }

  /** First writer wins: false when this dedupe key was claimed before (by anyone, any replica). */
  async claim(tenantId: string, key: string, ttlMs = 2 * DAY_MS): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}dedupe:{${tenantId}}:${key}`, Date.now(), 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Gives a claim back (the publish failed; the next attempt may send). */
  async unclaim(tenantId: string, key: string): Promise<void> {
    await this.redis.del(`${this.prefix}dedupe:{${tenantId}}:${key}`);
  }

  /** Takes one of the user's `cap` pushes of `day`, atomically; false when none is left. */
  async reserveDaily(tenantId: string, userId: string, day: string, cap: number): Promise<boolean> {
    return (await this.redis.eval(RESERVE_DAILY, 1, `${this.user(tenantId, userId)}:sent:${day}`, cap, 2 * DAY_MS)) === 1;
  }

  /** Gives a reserved push back (the publish failed). */
  async releaseDaily(tenantId: string, userId: string, day: string): Promise<void> {
    await this.redis.eval(RELEASE_DAILY, 1, `${this.user(tenantId, userId)}:sent:${day}`);
  }

  /** The push went out: starts the intent's cooldown (the daily count was taken by `reserveDaily`). */
  async recordSent(tenantId: string, userId: string, intent: string, at: number, cooldownMs: number): Promise<void> {
    if (cooldownMs > 0) await this.redis.set(`${this.user(tenantId, userId)}:cooldown:${intent}`, at, 'PX', cooldownMs);
  }

  /**
   * Remembers what the user cares about (intents and slot values, lower case) for `ttlMs`, both per
   * user and in a per-tenant index term → users that new-content notices read.
   */
  async recordInterests(tenantId: string, userId: string, terms: readonly string[], at: number, ttlMs: number): Promise<void> {
    const normalised = [...new Set(terms.map((term) => term.trim().toLowerCase()).filter(Boolean))];
    if (normalised.length === 0) return;
    const mine = `${this.user(tenantId, userId)}:interests`;
    const tx = this.redis.multi();
    for (const term of normalised) {
      const index = `${this.prefix}interest:{${tenantId}}:${term}`;
      tx.zadd(mine, at, term).zadd(index, at, userId).zremrangebyscore(index, '-inf', at - ttlMs).pexpire(index, ttlMs);
    }
    tx.zremrangebyscore(mine, '-inf', at - ttlMs).pexpire(mine, ttlMs);
    await tx.exec();
  }

  /** Forgets every interest of the user (their profile was deleted: erasure), in the tenant's index too. */
  async forgetInterests(tenantId: string, userId: string): Promise<void> {
    const mine = `${this.user(tenantId, userId)}:interests`;
    const terms = await this.redis.zrange(mine, 0, -1);
    for (const term of terms) await this.redis.zrem(`${this.prefix}interest:{${tenantId}}:${term}`, userId);
    await this.redis.del(mine);
  }

  async interests(tenantId: string, userId: string, now: number, ttlMs: number): Promise<string[]> {
    return this.redis.zrevrangebyscore(`${this.user(tenantId, userId)}:interests`, '+inf', now - ttlMs);
  }

  /** Users of the tenant with any of these interests seen within `ttlMs`: per term the `usersPerTerm` most recent. */
  async usersInterestedIn(tenantId: string, terms: readonly string[], now: number, ttlMs: number, usersPerTerm: number): Promise<Map<string, string[]>> {
    const users = new Map<string, string[]>();
    const unique = [...new Set(terms.map((term) => term.trim().toLowerCase()).filter(Boolean))];
    const found = await Promise.all(
      unique.map((term) => this.redis.zrevrangebyscore(`${this.prefix}interest:{${tenantId}}:${term}`, '+inf', now - ttlMs, 'LIMIT', 0, usersPerTerm)),
    );
    unique.forEach((term, i) => {
      for (const userId of found[i] ?? []) users.set(userId, [...(users.get(userId) ?? []), term]);
    });
    return users;
  }
}
