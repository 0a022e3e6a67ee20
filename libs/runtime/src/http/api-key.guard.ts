import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ApiKeyStore, type ApiKeyRecord } from '@aip/keys';
import type { FastifyRequest } from 'fastify';
import { httpErrors } from './api-error.ts';
import { ApiKeyCache, bearerSecret } from './api-key.cache.ts';

export type AuthenticatedRequest = FastifyRequest & { apiKey: ApiKeyRecord };

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
