import { Body, Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { ApiError, ApiKeyGuard, type AuthenticatedRequest } from '@aip/runtime';
import { z } from 'zod';
import { errors } from '../common/errors.ts';
import { REALTIME_TOKEN_DEFAULT_TTL_S, REALTIME_TOKEN_MAX_TTL_S, RealtimeTokenService } from './realtime-token.service.ts';

const tokenRequest = z.object({
  user: z.string().regex(/^[\w.:@-]{1,128}$/, 'user: 1-128 of letters, digits, _ . : @ -'),
  ttlSeconds: z.number().int().min(10).max(REALTIME_TOKEN_MAX_TTL_S).default(REALTIME_TOKEN_DEFAULT_TTL_S),
});

/** `POST /v1/realtime/tokens`: a backend holding an API key gets a short-lived token for one of its users' browsers. */
@Controller('v1/realtime')
@UseGuards(ApiKeyGuard)
export class RealtimeController {
  constructor(@Inject(RealtimeTokenService) private readonly tokens: RealtimeTokenService) {}

  @Post('tokens')
  @HttpCode(201)
  async issue(@Req() request: AuthenticatedRequest, @Body() body: unknown) {
    const parsed = tokenRequest.safeParse(body ?? {});
    if (!parsed.success) {
      throw new ApiError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), 'invalid_request_error', 'invalid_value', String(parsed.error.issues[0]?.path[0] ?? 'body'));
    }
    const key = request.apiKey;
    let issued;
    try {
      issued = await this.tokens.issue({ tenantId: key.tenantId, keyId: key.id, userId: parsed.data.user }, parsed.data.ttlSeconds);
    } catch {
      throw errors.unavailable('Token storage (Redis)');
    }
    return { token: issued.token, expiresAt: new Date(issued.expiresAt).toISOString(), userId: parsed.data.user, ttlSeconds: parsed.data.ttlSeconds };
  }
}
