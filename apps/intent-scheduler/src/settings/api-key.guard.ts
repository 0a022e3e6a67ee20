import { HttpException, HttpStatus, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ApiKeyStore, type ApiKeyRecord } from '@aip/keys';
import type { FastifyRequest } from 'fastify';

export type AuthenticatedRequest = FastifyRequest & { apiKey: ApiKeyRecord };

export const apiError = (status: number, code: string, message: string) => new HttpException({ error: { code, message } }, status);

/** Bearer API key → key record (tenant). The same keys as access; revocation applies at once here (no cache: this API is not hot). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(ApiKeyStore) private readonly keys: ApiKeyStore) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const secret = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!secret) throw apiError(HttpStatus.UNAUTHORIZED, 'missing_api_key', 'Send an API key as "Authorization: Bearer <key>".');
    let record: ApiKeyRecord | undefined;
    try {
      record = await this.keys.authenticate(secret);
    } catch {
      throw apiError(HttpStatus.SERVICE_UNAVAILABLE, 'unavailable', 'Key storage (Redis) is unavailable; try again.');
    }
    if (!record) throw apiError(HttpStatus.UNAUTHORIZED, 'invalid_api_key', 'The API key is not valid.');
    request.apiKey = record;
    return true;
  }
}
