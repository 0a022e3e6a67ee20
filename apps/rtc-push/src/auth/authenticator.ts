import { createHash } from 'node:crypto';
import { REALTIME_LIMITS, REALTIME_TOKEN_PREFIX, realtimeTokenClaims, realtimeTokenKey } from '@aip/contracts';
import type { ApiKeyRecord, ApiKeyStore } from '@aip/keys';
import type { Redis } from 'ioredis';

export interface Identity {
  tenantId: string;
  userId: string;
  key: ApiKeyRecord;
  via: 'api-key' | 'token';
}

export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    message: string,
    readonly code: 'unauthorized' | 'unavailable' = 'unauthorized',
  ) {
    super(message);
  }
}

export interface Credentials {
  authorization?: string | undefined;
  token?: string | undefined;
  user?: string | undefined;
}

const CACHE_MS = 2_000;
const USER_ID = /^[\w.:@-]{1,128}$/;

/**
 * API key (`Authorization: Bearer`, user from `?user=`) or short-lived token (`?token=`, user
 * from its claims). Key records are cached for two seconds like access does: a revoked key (and
 * every token issued with it) stops working within that time.
 */
export class Authenticator {
  private readonly cache = new Map<string, { record: ApiKeyRecord | undefined; until: number }>();

  constructor(
    private readonly keys: ApiKeyStore,
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async authenticate(credentials: Credentials): Promise<Identity> {
    const bearer = credentials.authorization?.startsWith('Bearer ') ? credentials.authorization.slice(7).trim() : undefined;
    if (bearer) {
      const user = credentials.user;
      if (!user || user.length > REALTIME_LIMITS.maxIdLength || !USER_ID.test(user)) throw new AuthError('with an API key, name the user with the "user" query parameter (1-128 of letters, digits, _ . : @ -)');
      const key = await this.cached(`secret:${bearer}`, () => this.keys.authenticate(bearer));
      if (!key) throw new AuthError('invalid or revoked API key');
      return { tenantId: key.tenantId, userId: user, key, via: 'api-key' };
    }
    const token = credentials.token;
    if (!token) throw new AuthError('missing credentials: send "Authorization: Bearer <API key>" or "?token=<realtime token>"');
    if (!token.startsWith(REALTIME_TOKEN_PREFIX) || token.length > 256) throw new AuthError('invalid realtime token');
    const digest = createHash('sha256').update(token).digest('hex');
    let raw: string | null;
    try {
      raw = await this.redis.get(realtimeTokenKey(this.prefix, digest));
    } catch {
      throw new AuthError('token storage (Redis) is unavailable', 'unavailable');
    }
    const claims = raw ? realtimeTokenClaims.safeParse(JSON.parse(raw)) : undefined;
    if (!claims?.success || claims.data.expiresAt <= Date.now()) throw new AuthError('invalid or expired realtime token');
    const key = await this.cached(`id:${claims.data.keyId}`, async () => {
      const record = await this.keys.byId(claims.data.keyId);
      return record?.status === 'active' ? record : undefined;
    });
    if (!key || key.tenantId !== claims.data.tenantId) throw new AuthError('the API key of this token was revoked');
    return { tenantId: claims.data.tenantId, userId: claims.data.userId, key, via: 'token' };
  }

  private async cached(id: string, load: () => Promise<ApiKeyRecord | undefined>): Promise<ApiKeyRecord | undefined> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && hit.until >= now) return hit.record;
    let record: ApiKeyRecord | undefined;
    try {
      record = await load();
    } catch {
      throw new AuthError('key storage (Redis) is unavailable', 'unavailable');
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(id, { record, until: now + CACHE_MS });
    return record;
  }
}
