import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Inject, NotFoundException, Param, ParseIntPipe, Post, Put, UseGuards } from '@nestjs/common';
import { intentCatalogueSchema } from '@aip/contracts';
import { keepStoredSecrets, modelRoutingSchema, openRoutingSecrets, redactRoutingSecrets, SealedSecretError, sealRoutingSecrets, SecretBox, UnknownRedactedSecretError, type ModelRoutingConfig } from '@aip/llm';
import { policyDocumentSchema } from '@aip/rate-limit';
import { EventPublisher } from '@aip/messaging';
import { ConfigDocuments, ENV, type BaseEnv } from '@aip/runtime';
import type { z } from 'zod';
import { wordsDocumentSchema } from '../moderation/moderation.service.ts';
import { AdminGuard } from './admin.guard.ts';

const DOCUMENTS = {
  routing: { schema: modelRoutingSchema, event: 'config.routing.changed' },
  words: { schema: wordsDocumentSchema, event: 'config.words.changed' },
  policies: { schema: policyDocumentSchema, event: 'config.policy.changed' },
  intents: { schema: intentCatalogueSchema, event: 'config.intents.changed' },
} as const satisfies Record<string, { schema: z.ZodType; event: 'config.routing.changed' | 'config.words.changed' | 'config.policy.changed' | 'config.intents.changed' }>;

type DocumentName = keyof typeof DOCUMENTS;

/**
 * The document a path names, by own property only: `name in DOCUMENTS` or `DOCUMENTS[name]` would
 * also find `__proto__`, `constructor`, `toString`... of Object.prototype (a 500 on PUT, and a
 * phantom document on GET).
 */
function documentNamed(name: string): DocumentName {
  if (!Object.hasOwn(DOCUMENTS, name)) throw new NotFoundException(`no document "${name}" (documents: ${Object.keys(DOCUMENTS).join(', ')})`);
  return name as DocumentName;
}

/**
 * Run-time documents operators change without restarts: `routing` (model aliases → provider
 * chains, read by inference workers and by access for the served models), `words` (the
 * sensitive-word list), `policies` (rate limits) and `intents` (the intent catalogue of the
 * proactive scheduler). Every instance picks a new version up within a second.
 *
 * Every change is a version: `GET …/versions` lists them, `POST …/versions/{v}/restore` writes
 * version v's body again as a new version (history only grows: a restore can itself be undone).
 * `DELETE` takes the document away: the apps go back to their start-up settings (`MODEL_ROUTING`,
 * `SENSITIVE_WORDS`, `DEFAULT_POLICY`, the built-in intents).
 */
@Controller('admin/config')
@UseGuards(AdminGuard)
export class ConfigController {
  /** Seals provider secrets before they reach Redis (CONFIG_ENCRYPTION_KEY); without it they are stored as sent. */
  private readonly box: SecretBox | undefined;

  constructor(
    @Inject(ConfigDocuments) private readonly documents: ConfigDocuments,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(ENV) env: Pick<BaseEnv, 'CONFIG_ENCRYPTION_KEY'>,
  ) {
    this.box = env.CONFIG_ENCRYPTION_KEY ? new SecretBox(env.CONFIG_ENCRYPTION_KEY) : undefined;
  }

  @Get(':name')
  async get(@Param('name') name: string) {
    const document = await this.documents.get(documentNamed(name));
    return document ? this.shown(name, document) : { version: 0, body: null };
  }

  @Put(':name')
  async put(@Param('name') name: string, @Body() body: unknown) {
    const spec = DOCUMENTS[documentNamed(name)];
    const parsed = spec.schema.safeParse(body);
    if (!parsed.success) throw new BadRequestException(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    let data: unknown = parsed.data;
    if (name === 'routing') {
      // Provider secrets shown redacted by GET and sent back unchanged keep their stored values.
      const stored = await this.documents.get<ModelRoutingConfig>('routing');
      try {
        data = sealRoutingSecrets(keepStoredSecrets(parsed.data as ModelRoutingConfig, stored?.body ? this.opened(stored.body) : undefined), this.box);
      } catch (error) {
        if (error instanceof UnknownRedactedSecretError) throw new BadRequestException([error.message]);
        throw error;
      }
    }
    return this.write(name, data);
  }

  @Delete(':name')
  async delete(@Param('name') name: string) {
    const current = await this.documents.get(documentNamed(name));
    if (!current || current.body === null) throw new NotFoundException(`no "${name}" document is stored: the start-up settings are in force already`);
    return this.write(name, null);
  }

  @Get(':name/versions')
  async versions(@Param('name') name: string) {
    const history = await this.documents.history(documentNamed(name));
    return { data: history.map(({ version, at, body }) => ({ version, at, deleted: body === null })) };
  }

  @Get(':name/versions/:version')
  async version(@Param('name') name: string, @Param('version', ParseIntPipe) version: number) {
    return this.shown(name, await this.kept(name, version));
  }

  /** Version v's body becomes the newest version, exactly as it was stored (provider secrets sealed as they were). */
  @Post(':name/versions/:version/restore')
  @HttpCode(200)
  async restore(@Param('name') name: string, @Param('version', ParseIntPipe) version: number) {
    const { body } = await this.kept(name, version);
    // Checked again: a version kept from before an upgrade may not satisfy today's schema.
    if (body !== null) {
      const parsed = DOCUMENTS[name as DocumentName].schema.safeParse(body);
      if (!parsed.success) throw new BadRequestException([`version ${version} is not a valid "${name}" document any more`, ...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)]);
    }
    return this.write(name, body);
  }

  private async kept(name: string, version: number) {
    const kept = await this.documents.version(documentNamed(name), version);
    if (!kept) throw new NotFoundException(`no version ${version} of "${name}" is kept (GET /admin/config/${name}/versions lists them)`);
    return kept;
  }

  /** Stores a new version (null: deleted) and announces it; the audit event carries no body. */
  private async write(name: string, body: unknown) {
    const document = await this.documents.put(name, body);
    await this.publisher.publish(DOCUMENTS[name as DocumentName].event, { documentId: name, version: document.version }, { tenantId: 'platform' });
    return this.shown(name, document);
  }

  /**
   * The stored routing document with its secrets opened. Sealed values stay as they are without a
   * key, or when they were sealed with another one (a rotated key): shown redacted, kept when sent
   * back; inference then refuses them until the secrets are sent again.
   */
  private opened(routing: ModelRoutingConfig): ModelRoutingConfig {
    if (!this.box) return routing;
    try {
      return openRoutingSecrets(routing, this.box);
    } catch (error) {
      if (error instanceof SealedSecretError) return routing;
      throw error;
    }
  }

  /** A document as the admin API shows it: the routing document without its provider secrets. */
  private shown<D extends { body: unknown }>(name: string, document: D): D {
    return name === 'routing' && document.body !== null ? { ...document, body: redactRoutingSecrets(this.opened(document.body as ModelRoutingConfig)) } : document;
  }
}
