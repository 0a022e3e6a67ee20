import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ApiKeyStore, type ApiKeyRecord } from '@aip/keys';
import type { FastifyRequest } from 'fastify';
import { errors } from '../common/api-error.ts';

export type AuthenticatedRequest = FastifyRequest & { apiKey: ApiKeyRecord };

const CACHE_MS = 2_000;

/**
 * The platform's API keys (the ones access issues): Bearer key → key record, whose tenant scopes
 * every read and write. Cached for two seconds, so a revoked key stops working within that time.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly cache = new Map<string, { record: ApiKeyRecord | undefined; until: number }>();

  constructor(@Inject(ApiKeyStore) private readonly keys: ApiKeyStore) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const secret = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!secret) throw errors.missingKey();
    const now = Date.now();
    let cached = this.cache.get(secret);
    if (!cached || cached.until < now) {
      let record: ApiKeyRecord | undefined;
      try {
        record = await this.keys.authenticate(secret);
      } catch {
        throw errors.unavailable('Key storage (Redis)');
      }
      cached = { record, until: now + CACHE_MS };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(secret, cached);
    }
    if (!cached.record) throw errors.invalidKey();
    request.apiKey = cached.record;
    return true;
  }
}
