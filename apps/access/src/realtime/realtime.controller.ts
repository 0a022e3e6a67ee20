import { Body, Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { chatRefusals, REALTIME_GRANT_LIMITS, type ChatRefusal } from '@aip/chat-policy';
import { ApiError, ApiKeyGuard, type AuthenticatedRequest } from '@aip/runtime';
import { errors } from '../common/errors.ts';
import { ModelCatalog } from '@aip/chat-policy';
import { realtimeTokenRequestSchema, type RealtimeToken } from './realtime-token.schema.ts';
import { RealtimeTokenService } from './realtime-token.service.ts';

const refused = (refusal: ChatRefusal) => new ApiError(refusal.status, refusal.message, refusal.type, refusal.code, refusal.param === 'model' ? 'models' : refusal.param);

/**
 * `POST /v1/realtime/tokens`: a backend holding an API key gets a short-lived token for one of its
 * users' browsers. The token is narrower than the key: a fixed subset of its models, a max-tokens
 * cap, and no `system` messages (rtc-push enforces all three).
 */
@Controller('v1/realtime')
@UseGuards(ApiKeyGuard)
export class RealtimeController {
  constructor(
    @Inject(RealtimeTokenService) private readonly tokens: RealtimeTokenService,
    @Inject(ModelCatalog) private readonly catalog: ModelCatalog,
  ) {}

  @Post('tokens')
  @HttpCode(201)
  async issue(@Req() request: AuthenticatedRequest, @Body() body: unknown): Promise<RealtimeToken> {
    const parsed = realtimeTokenRequestSchema.safeParse(body ?? {});
    if (!parsed.success) {
      throw new ApiError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), 'invalid_request_error', 'invalid_value', String(parsed.error.issues[0]?.path[0] ?? 'body'));
    }
    const key = request.apiKey;
    const served = this.catalog.aliases;
    const keyModels = key.models ?? [];
    const allowed = keyModels.length > 0 ? served.filter((model) => keyModels.includes(model)) : served;
    const models = [...new Set(parsed.data.models ?? allowed)].slice(0, REALTIME_GRANT_LIMITS.maxModels);
    for (const model of models) {
      if (!served.includes(model)) throw refused(chatRefusals.modelNotFound(model));
      if (!allowed.includes(model)) throw refused(chatRefusals.modelNotAllowed(model));
    }
    if (models.length === 0) throw new ApiError(404, 'This API key may use none of the models served.', 'not_found_error', 'model_not_found', 'models');
    const { user, ttlSeconds, maxTokens } = parsed.data;
    let issued;
    try {
      issued = await this.tokens.issue({ tenantId: key.tenantId, keyId: key.id, userId: user, models, maxTokens }, ttlSeconds);
    } catch {
      throw errors.unavailable('Token storage (Redis)');
    }
    return { token: issued.token, expiresAt: new Date(issued.expiresAt).toISOString(), userId: user, ttlSeconds, models, maxTokens };
  }
}
