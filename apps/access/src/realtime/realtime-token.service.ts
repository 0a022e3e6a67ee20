import { createHash, randomBytes } from 'node:crypto';
import type { RealtimeGrant } from '@aip/chat-policy';
import { REALTIME_TOKEN_PREFIX, realtimeTokenKey, type RealtimeTokenClaims } from '@aip/contracts';
import type { Redis } from 'ioredis';

export const REALTIME_TOKEN_MAX_TTL_S = 3_600;
export const REALTIME_TOKEN_DEFAULT_TTL_S = 300;

/**
 * Short-lived tokens for browsers, which cannot set headers on a WebSocket: random, stored only
 * as sha256 → claims (tenant, key, user) and the token's grant (models, max tokens) with a TTL;
 * rtc-push reads the same key.
 */
export class RealtimeTokenService {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async issue(claims: Omit<RealtimeTokenClaims, 'expiresAt'> & RealtimeGrant, ttlSeconds: number): Promise<{ token: string; expiresAt: number }> {
    const token = `${REALTIME_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = Date.now() + ttlSeconds * 1_000;
    const digest = createHash('sha256').update(token).digest('hex');
    await this.redis.set(realtimeTokenKey(this.prefix, digest), JSON.stringify({ ...claims, expiresAt } satisfies RealtimeTokenClaims & RealtimeGrant), 'PX', ttlSeconds * 1_000);
    return { token, expiresAt };
  }
}
