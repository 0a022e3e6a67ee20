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

  async recordSent(tenantId: string, userId: string, intent: string, day: string, at: number, cooldownMs: number): Promise<void> {
    const base = this.user(tenantId, userId);
    const tx = this.redis.multi().incr(`${base}:sent:${day}`).pexpire(`${base}:sent:${day}`, 2 * DAY_MS);
    if (cooldownMs > 0) tx.set(`${base}:cooldown:${intent}`, at, 'PX', cooldownMs);
    await tx.exec();
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

  async interests(tenantId: string, userId: string, now: number, ttlMs: number): Promise<string[]> {
    return this.redis.zrevrangebyscore(`${this.user(tenantId, userId)}:interests`, '+inf', now - ttlMs);
  }

  /** Users of the tenant with any of these interests seen within `ttlMs`. */
  async usersInterestedIn(tenantId: string, terms: readonly string[], now: number, ttlMs: number): Promise<Map<string, string[]>> {
    const users = new Map<string, string[]>();
    const unique = [...new Set(terms.map((term) => term.trim().toLowerCase()).filter(Boolean))];
    const found = await Promise.all(unique.map((term) => this.redis.zrangebyscore(`${this.prefix}interest:{${tenantId}}:${term}`, now - ttlMs, '+inf')));
    unique.forEach((term, i) => {
      for (const userId of found[i] ?? []) users.set(userId, [...(users.get(userId) ?? []), term]);
    });
    return users;
  }
}
