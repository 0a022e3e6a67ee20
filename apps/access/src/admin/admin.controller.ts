import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ModelCatalog } from '@aip/chat-policy';
import { ApiKeyStore, apiKeyInputSchema } from '@aip/keys';
import { ApiError, ENV } from '@aip/runtime';
import type { AccessEnv } from '../access.config.ts';
import { AdminGuard } from './admin.guard.ts';

/** Create, list, rotate and revoke API keys. The plaintext key is shown once. */
@Controller('admin/keys')
@UseGuards(AdminGuard)
export class AdminController {
  constructor(
    @Inject(ApiKeyStore) private readonly keys: ApiKeyStore,
    @Inject(ModelCatalog) private readonly models: ModelCatalog,
    @Inject(ENV) private readonly env: AccessEnv,
  ) {}

  @Post()
  async create(@Body() body: unknown) {
    const input = apiKeyInputSchema.safeParse(body);
    if (!input.success) throw new BadRequestException(input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    // A key for a model nothing serves would only ever get 404s: the operator hears it now.
    const served = [...this.models.aliases, this.env.EMBEDDINGS_MODEL_ALIAS];
    const unserved = input.data.models?.filter((model) => !served.includes(model)) ?? [];
    if (unserved.length > 0) {
      throw new ApiError(400, `No model is served under ${unserved.map((model) => `'${model}'`).join(', ')}; served: ${served.join(', ')}. Add it to the routing document first.`, 'invalid_request_error', 'model_not_found', 'models');
    }
    return this.keys.create(input.data);
  }

  @Get()
  list(@Query('tenantId') tenantId?: string) {
    if (!tenantId) throw new BadRequestException('tenantId is required');
    return this.keys.list(tenantId);
  }

  @Post(':id/rotate')
  async rotate(@Param('id') id: string) {
    const rotated = await this.keys.rotate(id);
    if (!rotated) throw new NotFoundException('no active key with that id');
    return rotated;
  }

  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id') id: string) {
    if (!(await this.keys.revoke(id))) throw new NotFoundException('no key with that id');
  }
}
