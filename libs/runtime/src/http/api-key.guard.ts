import { createHash } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { REALTIME_TOKEN_PREFIX, realtimeTokenClaims, realtimeTokenKey, type RealtimeTokenClaims } from '@aip/contracts';
import { ApiKeyStore, type ApiKeyRecord } from '@aip/keys';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { BaseEnv } from '../env.config.ts';
import { ENV, REDIS } from '../tokens.ts';
import { ApiError, httpErrors } from './api-error.ts';
import { ApiKeyCache, bearerSecret } from './api-key.cache.ts';

/**
 * `apiKey`: the key the request acts with (a realtime token's: the key it was issued with).
 * `endUser`: set when an end user's realtime token authenticated it: the request acts for that user
 * only (ADR 0029).
 */
export type AuthenticatedRequest = FastifyRequest & { apiKey: ApiKeyRecord; endUser?: string };

/**
 * A realtime token's claims (`POST /v1/realtime/tokens`), or undefined for a token that is unknown,
 * expired or not one. Throws when Redis cannot be asked.
 */
export async function readRealtimeToken(redis: Pick<Redis, 'get'>, prefix: string, token: string): Promise<{ claims: RealtimeTokenClaims; stored: unknown } | undefined> {
  if (!token.startsWith(REALTIME_TOKEN_PREFIX) || token.length > 256) return undefined;
  const raw = await redis.get(realtimeTokenKey(prefix, createHash('sha256').update(token).digest('hex')));
  const stored: unknown = raw ? JSON.parse(raw) : undefined;
  const claims = realtimeTokenClaims.safeParse(stored);
  return claims.success && claims.data.expiresAt > Date.now() ? { claims: claims.data, stored } : undefined;
}

/**
 * The platform's API keys: Bearer key → key record (its tenant scopes every read and write),
 * attached as `request.apiKey`. 401 without a key or for an unknown/revoked one; 503 when Redis
 * cannot be asked (never a 401 that would make a client drop a good key). Records are cached for
 * two seconds, so a revoked key stops working within that time.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly cache: ApiKeyCache;

  constructor(@Inject(ApiKeyStore) keys: ApiKeyStore) {
    this.cache = new ApiKeyCache(keys);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const secret = bearerSecret(request.headers.authorization);
    if (!secret) throw httpErrors.missingKey();
    let record: ApiKeyRecord | undefined;
    try {
      record = await this.cache.authenticate(secret);
    } catch {
      throw httpErrors.unavailable('Key storage (Redis)');
    }
    if (!record) throw httpErrors.invalidKey();
    request.apiKey = record;
    return true;
  }
}

/**
 * The routes an end user's browser may call itself (their conversations, their profile): an API key
 * as `ApiKeyGuard` takes it, or a realtime token, which acts for its user only (`request.endUser`)
 * with the key it was issued with, while that key is active.
 */
@Injectable()
export class ApiKeyOrUserTokenGuard implements CanActivate {
  private readonly cache: ApiKeyCache;

  constructor(
    @Inject(ApiKeyStore) keys: ApiKeyStore,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(ENV) private readonly env: BaseEnv,
  ) {
    this.cache = new ApiKeyCache(keys);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const secret = bearerSecret(request.headers.authorization);
    if (!secret) throw httpErrors.missingKey();
    const viaToken = secret.startsWith(REALTIME_TOKEN_PREFIX);
    let record: ApiKeyRecord | undefined;
    let endUser: string | undefined;
    try {
      if (viaToken) {
        const token = await readRealtimeToken(this.redis, this.env.REDIS_PREFIX, secret);
        const key = token && (await this.cache.activeById(token.claims.keyId));
        if (token && key?.tenantId === token.claims.tenantId) [record, endUser] = [key, token.claims.userId];
      } else {
        record = await this.cache.authenticate(secret);
      }
    } catch {
      throw httpErrors.unavailable('Key storage (Redis)');
    }
    if (!record) throw viaToken ? new ApiError(401, 'Invalid or expired realtime token, or its API key was revoked.', 'authentication_error', 'invalid_token') : httpErrors.invalidKey();
    request.apiKey = record;
    if (endUser !== undefined) request.endUser = endUser;
    return true;
  }
}
