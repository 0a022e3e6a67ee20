import { readRealtimeGrant } from '@aip/chat-policy';
import { REALTIME_LIMITS, REALTIME_TOKEN_PREFIX } from '@aip/contracts';
import type { ApiKeyRecord, ApiKeyStore } from '@aip/keys';
import { ApiKeyCache, bearerSecret, KeyStoreUnavailableError, readRealtimeToken } from '@aip/runtime';
import type { Redis } from 'ioredis';

export interface Identity {
  tenantId: string;
  userId: string;
  key: ApiKeyRecord;
  via: 'api-key' | 'token';
  /** Tokens: when the token expires (epoch ms); open connections are closed then. */
  expiresAt?: number;
  /** Tokens: what the browser user may do, narrower than the key (`models` absent: the key's). */
  grant?: { models?: string[]; maxTokens: number };
}

/** Why an open connection may not go on: its token expired or its key is no longer active. */
export type Invalidation = 'expired' | 'revoked';

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
 * API key (`Authorization: Bearer sk-aip-…`, user from `?user=`) or short-lived token
 * (`Authorization: Bearer rtt_…`, the WebSocket subprotocol `aip.token.rtt_…`, or `?token=`; the
 * gateways pass whichever came as `token`; user from its claims). Key records are cached for two
 * seconds (`ApiKeyCache`, as access's guard): a revoked key (and every token issued with it) stops
 * working within that time, for new connections; `revalidate` serves the open ones.
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
    if (bearer?.startsWith(REALTIME_TOKEN_PREFIX)) return this.withToken(bearer);
    if (bearer) {
      const user = credentials.user;
      if (!user || user.length > REALTIME_LIMITS.maxIdLength || !USER_ID.test(user)) throw new AuthError('with an API key, name the user with the "user" query parameter (1-128 of letters, digits, _ . : @ -)');
      const key = await this.lookup(() => this.keys.authenticate(bearer));
      if (!key) throw new AuthError('invalid or revoked API key');
      return { tenantId: key.tenantId, userId: user, key, via: 'api-key' };
    }
    const token = credentials.token;
    if (!token) throw new AuthError('missing credentials: send "Authorization: Bearer <API key or realtime token>", the subprotocol "aip.token.<realtime token>" or "?token=<realtime token>"');
    return this.withToken(token);
  }

  /**
   * Whether an open connection may go on: its token has not expired and its key is still active
   * (and still the tenant's). Throws AuthError `unavailable` when the key store cannot answer —
   * the caller keeps the connection then: an outage is not a revocation.
   */
  async revalidate(identity: Identity, now = Date.now()): Promise<Invalidation | undefined> {
    if (identity.expiresAt !== undefined && identity.expiresAt <= now) return 'expired';
    const key = await this.lookup(() => this.keys.activeById(identity.key.id));
    return key && key.tenantId === identity.tenantId ? undefined : 'revoked';
  }

  private async withToken(token: string): Promise<Identity> {
    let found: Awaited<ReturnType<typeof readRealtimeToken>>;
    try {
      found = await readRealtimeToken(this.redis, this.prefix, token);
    } catch {
      throw new AuthError('token storage (Redis) is unavailable', 'unavailable');
    }
    if (!found) throw new AuthError('invalid or expired realtime token');
    const { claims, stored } = found;
    const key = await this.lookup(() => this.keys.activeById(claims.keyId));
    if (!key || key.tenantId !== claims.tenantId) throw new AuthError('the API key of this token was revoked');
    return { tenantId: claims.tenantId, userId: claims.userId, key, via: 'token', expiresAt: claims.expiresAt, grant: readRealtimeGrant(stored) };
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
