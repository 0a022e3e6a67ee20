import type { Redis } from 'ioredis';
import { z } from 'zod';
import { rateLimitPolicySchema } from './rate-limit-policy.schema.ts';

/**
 * The rate-limiter's settings that decide an admission, as the limiter publishes them for
 * access's fast path (ADR 0025): access admits on the limiter's scripts only with the limiter's own
 * terms, never with a copy of its configuration that could drift. They expire unless a running
 * limiter refreshes them, so with no limiter up access hands every request over instead.
 */
export const admissionTermsSchema = z.object({
  defaultPolicy: rateLimitPolicySchema,
  checkWorkerCapacity: z.boolean(),
  sessionAffinity: z.boolean(),
  affinityMaxLoadGap: z.number().int().min(0),
});

export type AdmissionTermsValue = z.infer<typeof admissionTermsSchema>;

export class AdmissionTerms {
  private readonly redis: Redis;
  private readonly key: string;

  /** @param prefix the rate-limit prefix (rateLimitPrefix(REDIS_PREFIX)) */
  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.key = `${prefix}admission:terms`;
  }

  /** The limiter's refresh: the terms hold for `ttlMs` unless written again. */
  async publish(terms: AdmissionTermsValue, ttlMs: number): Promise<void> {
    await this.redis.set(this.key, JSON.stringify(admissionTermsSchema.parse(terms)), 'PX', ttlMs);
  }

  /** The terms in force, or undefined when no limiter published any lately (or they are unreadable). */
  async read(): Promise<AdmissionTermsValue | undefined> {
    const raw = await this.redis.get(this.key);
    if (raw === null) return undefined;
    try {
      const parsed = admissionTermsSchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}
