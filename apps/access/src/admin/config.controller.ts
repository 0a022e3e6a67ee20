import { BadRequestException, Body, Controller, Get, Inject, NotFoundException, Param, Put, UseGuards } from '@nestjs/common';
import { intentCatalogueSchema } from '@aip/contracts';
import { modelRoutingSchema } from '@aip/llm';
import { policyDocumentSchema } from '@aip/rate-limit';
import { EventPublisher } from '@aip/messaging';
import { ConfigDocuments } from '@aip/runtime';
import type { z } from 'zod';
import { wordsDocumentSchema } from '../moderation/moderation.service.ts';
import { AdminGuard } from './admin.guard.ts';

const DOCUMENTS = {
  routing: { schema: modelRoutingSchema, event: 'config.routing.changed' },
  words: { schema: wordsDocumentSchema, event: 'config.words.changed' },
  policies: { schema: policyDocumentSchema, event: 'config.policy.changed' },
  intents: { schema: intentCatalogueSchema, event: 'config.intents.changed' },
} as const satisfies Record<string, { schema: z.ZodType; event: 'config.routing.changed' | 'config.words.changed' | 'config.policy.changed' | 'config.intents.changed' }>;

/**
 * Run-time documents operators change without restarts: `routing` (model aliases → provider
 * chains, read by inference workers and by access for the served models), `words` (the
 * sensitive-word list), `policies` (rate limits) and `intents` (the intent catalogue of the
 * proactive scheduler). Every instance picks a new version up within a second.
 */
@Controller('admin/config')
@UseGuards(AdminGuard)
export class ConfigController {
  constructor(
    @Inject(ConfigDocuments) private readonly documents: ConfigDocuments,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
  ) {}

  @Get(':name')
  async get(@Param('name') name: string) {
    if (!(name in DOCUMENTS)) throw new NotFoundException(`no document "${name}" (documents: ${Object.keys(DOCUMENTS).join(', ')})`);
    return (await this.documents.get(name)) ?? { version: 0, body: null };
  }

  @Put(':name')
  async put(@Param('name') name: string, @Body() body: unknown) {
    const spec = DOCUMENTS[name as keyof typeof DOCUMENTS];
    if (!spec) throw new NotFoundException(`no document "${name}" (documents: ${Object.keys(DOCUMENTS).join(', ')})`);
    const parsed = spec.schema.safeParse(body);
    if (!parsed.success) throw new BadRequestException(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    const document = await this.documents.put(name, parsed.data);
    await this.publisher.publish(spec.event, { documentId: name, version: document.version }, { tenantId: 'platform' });
    return document;
  }
}
