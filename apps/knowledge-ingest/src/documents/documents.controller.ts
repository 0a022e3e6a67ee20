import '@fastify/multipart';
import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Req, UseGuards } from '@nestjs/common';
import { KnowledgeRegistry } from '@aip/knowledge';
import { ApiKeyGuard, ENV, parseRequest, type AuthenticatedRequest } from '@aip/runtime';
import { errors } from '../common/errors.ts';
import { pathId } from '../common/ids.ts';
import type { KnowledgeIngestEnv } from '../knowledge-ingest.config.ts';
import { jsonDocumentSchema } from './document-request.schema.ts';
import { documentView } from './document.view.ts';
import { DocumentsService } from './documents.service.ts';

@Controller('v1/knowledge-bases/:kb/documents')
@UseGuards(ApiKeyGuard)
export class DocumentsController {
  constructor(
    @Inject(DocumentsService) private readonly documents: DocumentsService,
    @Inject(KnowledgeRegistry) private readonly registry: KnowledgeRegistry,
    @Inject(ENV) private readonly env: KnowledgeIngestEnv,
  ) {}

  /** Adds a document (multipart `file`, or JSON with inline `content`); 202: it is indexed asynchronously. */
  @Post()
  @HttpCode(202)
  async create(@Param('kb') kbId: string, @Req() request: AuthenticatedRequest) {
    return this.accept(pathId(kbId, 'kb'), request);
  }

  /** Replaces a document with a new version; the old version is served until the new one is complete. */
  @Put(':doc')
  @HttpCode(202)
  async replace(@Param('kb') kbId: string, @Param('doc') docId: string, @Req() request: AuthenticatedRequest) {
    return this.accept(pathId(kbId, 'kb'), request, pathId(docId, 'doc'));
  }

  @Get()
  async list(@Param('kb') kbId: string, @Req() request: AuthenticatedRequest) {
    pathId(kbId, 'kb');
    await this.documents.knowledgeBase(request.apiKey.tenantId, kbId);
    const docs = await this.registry.listDocuments(request.apiKey.tenantId, kbId);
    return { object: 'list', data: docs.map(documentView) };
  }

  @Get(':doc')
  async get(@Param('kb') kbId: string, @Param('doc') docId: string, @Req() request: AuthenticatedRequest) {
    pathId(kbId, 'kb');
    pathId(docId, 'doc');
    await this.documents.knowledgeBase(request.apiKey.tenantId, kbId);
    const doc = await this.registry.getDocument({ tenantId: request.apiKey.tenantId, kbId, docId });
    if (!doc) throw errors.documentNotFound(docId);
    return documentView(doc);
  }

  /** Deletes a document: not served from now on, its chunks removed in order with earlier changes. */
  @Delete(':doc')
  @HttpCode(202)
  async remove(@Param('kb') kbId: string, @Param('doc') docId: string, @Req() request: AuthenticatedRequest) {
    pathId(kbId, 'kb');
    pathId(docId, 'doc');
    await this.documents.knowledgeBase(request.apiKey.tenantId, kbId);
    return this.documents.delete(request.apiKey.tenantId, kbId, docId);
  }

  private async accept(kbId: string, request: AuthenticatedRequest, docId?: string) {
    const tenantId = request.apiKey.tenantId;
    await this.documents.knowledgeBase(tenantId, kbId);
    // The parts are read inside the service: a body without a (matching) boundary fails there, as a 400.
    if (request.isMultipart()) return this.documents.submitMultipart(tenantId, kbId, () => request.parts(), this.env.MAX_UPLOAD_BYTES, docId);
    if (!request.headers['content-type']?.startsWith('application/json')) throw errors.invalid('send JSON {mediaType, content, ...} or a multipart form with a "file" part', null, 'unsupported_content_type');
    return this.documents.submitJson(tenantId, kbId, parseRequest(jsonDocumentSchema, request.body), docId);
  }
}
