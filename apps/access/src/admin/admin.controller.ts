import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiKeyStore, apiKeyInputSchema } from '@aip/keys';
import { AdminGuard } from './admin.guard.ts';

/** Create, list, rotate and revoke API keys. The plaintext key is shown once. */
@Controller('admin/keys')
@UseGuards(AdminGuard)
export class AdminController {
  constructor(@Inject(ApiKeyStore) private readonly keys: ApiKeyStore) {}

  @Post()
  async create(@Body() body: unknown) {
    const input = apiKeyInputSchema.safeParse(body);
    if (!input.success) throw new BadRequestException(input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
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
