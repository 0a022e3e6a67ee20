import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import { KnowledgeRegistry, type KnowledgeStore } from '@aip/knowledge';
import { ApiKeyGuard, ENV, parseRequest, type AuthenticatedRequest } from '@aip/runtime';
import { errors } from '../common/errors.ts';
import { pathId } from '../common/ids.ts';
import { KNOWLEDGE_STORE } from '../common/tokens.ts';
import { knowledgeBaseView } from '../documents/document.view.ts';
import type { KnowledgeIngestEnv } from '../knowledge-ingest.config.ts';
import type { z } from 'zod';
import { createKnowledgeBaseSchema } from './knowledge-base-request.schema.ts';
import type { knowledgeBaseDeletedSchema, knowledgeBaseDetailSchema } from './knowledge-base-response.schema.ts';

@Controller('v1/knowledge-bases')
@UseGuards(ApiKeyGuard)
export class KnowledgeBasesController {
  constructor(
    @Inject(KnowledgeRegistry) private readonly registry: KnowledgeRegistry,
    @Inject(KNOWLEDGE_STORE) private readonly store: KnowledgeStore,
    @Inject(ENV) private readonly env: KnowledgeIngestEnv,
  ) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown, @Req() request: AuthenticatedRequest) {
    const input = parseRequest(createKnowledgeBaseSchema, body);
    const chunkSize = input.chunkSize ?? this.env.DEFAULT_CHUNK_SIZE;
    const chunkOverlap = input.chunkOverlap ?? Math.min(this.env.DEFAULT_CHUNK_OVERLAP, Math.floor(chunkSize / 5));
    if (chunkOverlap >= chunkSize) throw errors.invalid(`chunkOverlap (${chunkOverlap}) must be smaller than chunkSize (${chunkSize})`, 'chunkOverlap');
    const { record, created } = await this.registry.createKnowledgeBase({
      tenantId: request.apiKey.tenantId,
      kbId: input.id,
      chunkSize,
      chunkOverlap,
      ...(input.name ? { name: input.name } : {}),
      ...(input.description ? { description: input.description } : {}),
    });
    if (!created) throw errors.kbExists(input.id);
    return knowledgeBaseView(record);
  }

  @Get()
  async list(@Req() request: AuthenticatedRequest) {
    return { object: 'list', data: (await this.registry.listKnowledgeBases(request.apiKey.tenantId)).map(knowledgeBaseView) };
  }

  @Get(':kb')
  async get(@Param('kb') kbId: string, @Req() request: AuthenticatedRequest): Promise<z.infer<typeof knowledgeBaseDetailSchema>> {
    pathId(kbId, 'kb');
    const kb = await this.registry.getKnowledgeBase(request.apiKey.tenantId, kbId);
    if (!kb) throw errors.kbNotFound(kbId);
    const documents = await this.registry.listDocuments(request.apiKey.tenantId, kbId);
    const byStatus: Record<string, number> = {};
    for (const doc of documents) byStatus[doc.status] = (byStatus[doc.status] ?? 0) + 1;
    return { ...knowledgeBaseView(kb), documents: { total: documents.length, ...byStatus } };
  }

  /** Deletes the knowledge base, its documents and every chunk; nothing of it is served afterwards. */
  @Delete(':kb')
  async remove(@Param('kb') kbId: string, @Req() request: AuthenticatedRequest): Promise<z.infer<typeof knowledgeBaseDeletedSchema>> {
    pathId(kbId, 'kb');
    const tenantId = request.apiKey.tenantId;
    if (!(await this.registry.getKnowledgeBase(tenantId, kbId))) throw errors.kbNotFound(kbId);
    // Tombstone first: from this moment nothing of it is served, and neither queued changes nor an
    // ingest still running bring it back. The record goes last, so a failed store delete can be retried.
    await this.registry.startDeletingKnowledgeBase(tenantId, kbId);
    const chunks = await this.store.deleteKnowledgeBase({ tenantId, kbId });
    await this.registry.deleteKnowledgeBase(tenantId, kbId);
    return { object: 'knowledge.base', id: kbId, deleted: true, chunks };
  }
}
