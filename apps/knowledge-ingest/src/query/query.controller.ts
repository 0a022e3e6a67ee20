import { Body, Controller, HttpCode, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import { KnowledgeRegistry, Retriever } from '@aip/knowledge';
import { ApiKeyGuard, parseRequest, type AuthenticatedRequest } from '@aip/runtime';
import { errors } from '../common/errors.ts';
import { pathId } from '../common/ids.ts';
import { queryRequestSchema } from './query-request.schema.ts';
import type { QueryResponse } from './query-response.schema.ts';

@Controller('v1/knowledge-bases/:kb/query')
@UseGuards(ApiKeyGuard)
export class QueryController {
  constructor(
    @Inject(Retriever) private readonly retriever: Retriever,
    @Inject(KnowledgeRegistry) private readonly registry: KnowledgeRegistry,
  ) {}

  /** Passages of the knowledge base that answer the query, best first, each with its citation. */
  @Post()
  @HttpCode(200)
  async query(@Param('kb') kbId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest): Promise<QueryResponse> {
    pathId(kbId, 'kb');
    const input = parseRequest(queryRequestSchema, body);
    const tenantId = request.apiKey.tenantId;
    if (!(await this.registry.getKnowledgeBase(tenantId, kbId))) throw errors.kbNotFound(kbId);
    const passages = await this.retriever.search({ tenantId, kbIds: [kbId], query: input.query, limit: input.limit, mode: input.mode, ...(input.minScore === undefined ? {} : { minScore: input.minScore }) });
    return { object: 'list', mode: input.mode, data: passages };
  }
}
