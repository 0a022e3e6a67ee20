import { createHash } from 'node:crypto';
import { REALTIME_LIMITS, REALTIME_TOKEN_PREFIX, realtimeTokenClaims, realtimeTokenKey } from '@aip/contracts';
import type { ApiKeyRecord, ApiKeyStore } from '@aip/keys';
import { ApiKeyCache, bearerSecret, KeyStoreUnavailableError } from '@aip/runtime';
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

const USER_ID = /^[\w.:@-]{1,128}$/;

/**
 * API key (`Authorization: Bearer`, user from `?user=`) or short-lived token (`?token=`, user
 * from its claims). Key records are cached for two seconds (`ApiKeyCache`, as access's guard): a
 * revoked key (and every token issued with it) stops working within that time.
 */
export class Authenticator {
  private readonly keys: ApiKeyCache;

  constructor(
    keys: ApiKeyStore,
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.keys = new ApiKeyCache(keys);
  }

  async authenticate(credentials: Credentials): Promise<Identity> {
    const bearer = bearerSecret(credentials.authorization);
    if (bearer) {
      const user = credentials.user;
      if (!user || user.length > REALTIME_LIMITS.maxIdLength || !USER_ID.test(user)) throw new AuthError('with an API key, name the user with the "user" query parameter (1-128 of letters, digits, _ . : @ -)');
      const key = await this.lookup(() => this.keys.authenticate(bearer));
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
    const key = await this.lookup(() => this.keys.activeById(claims.data.keyId));
    if (!key || key.tenantId !== claims.data.tenantId) throw new AuthError('the API key of this token was revoked');
    return { tenantId: claims.data.tenantId, userId: claims.data.userId, key, via: 'token' };
  }

  private async lookup(query: () => Promise<ApiKeyRecord | undefined>): Promise<ApiKeyRecord | undefined> {
    try {
      return await query();
    } catch (error) {
      if (error instanceof KeyStoreUnavailableError) throw new AuthError('key storage (Redis) is unavailable', 'unavailable');
      throw error;
    }
  }
}
