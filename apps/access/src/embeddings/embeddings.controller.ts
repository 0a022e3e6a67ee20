import { Body, Controller, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, type AuthenticatedRequest } from '@aip/runtime';
import type { FastifyReply } from 'fastify';
import { EmbeddingsEndpoint } from './embeddings.endpoint.ts';

/** `POST /v1/embeddings` (OpenAI's shape); the work is `EmbeddingsEndpoint`'s. */
@Controller('v1/embeddings')
@UseGuards(ApiKeyGuard)
export class EmbeddingsController {
  constructor(@Inject(EmbeddingsEndpoint) private readonly endpoint: EmbeddingsEndpoint) {}

  @Post()
  @HttpCode(200)
  create(@Req() request: AuthenticatedRequest, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.endpoint.create(request.apiKey, body, (headers) => void reply.headers(headers));
  }
}
