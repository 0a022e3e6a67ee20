import type { Redis } from 'ioredis';
import type { LlmErrorKind } from './llm.error.ts';

export interface CooldownStoreOptions {
  /** Key prefix, e.g. "aip:". Keys: `{prefix}llm:cooldown:{provider}`. */
  prefix?: string;
}

/**
 * Sets the cooldown unless a longer one is already running: a 30 s server-error cooldown must not
 * cut short a 10 min auth cooldown set by another worker a moment earlier.
 */
const EXTEND_SCRIPT = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return tonumber(ARGV[2])
end
return ttl`;

/**
 * Provider cooldowns shared by every worker through Redis: one key per provider whose PX TTL is
 * the cooldown, whose value is the error kind that caused it. A worker that saw a provider fail
 * spares all the others the same failure (and the provider the extra load).
 */
export class CooldownStore {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, options: CooldownStoreOptions = {}) {
    this.redis = redis;
    this.prefix = options.prefix ?? '';
  }

  key(provider: string): string {
    return `${this.prefix}llm:cooldown:${provider}`;
  }

  /** Starts (or extends) a cooldown; returns the cooldown now in force, in ms. */
  async coolDown(provider: string, ms: number, kind: LlmErrorKind): Promise<number> {
    const duration = Math.max(1, Math.ceil(ms));
    const result = await this.redis.eval(EXTEND_SCRIPT, 1, this.key(provider), kind, String(duration));
    return Number(result);
  }

  /** Remaining cooldown per provider in ms (only providers cooling down appear); one round trip. */
  async remaining(providers: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (providers.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const provider of providers) pipeline.pttl(this.key(provider));
    const results = (await pipeline.exec()) ?? [];
    providers.forEach((provider, index) => {
      const [error, ttl] = results[index] ?? [null, -2];
      if (error) throw error;
      if (typeof ttl === 'number' && ttl > 0) out.set(provider, ttl);
    });
    return out;
  }

  async clear(provider: string): Promise<void> {
    await this.redis.del(this.key(provider));
  }
}
