import 'reflect-metadata';
import { Controller, Get, Module, Post } from '@nestjs/common';
import { z } from 'zod';
import { json, platformOpenApiDocument, undocumentedRoutes } from './openapi.ts';
import { OpenApiController } from './openapi.controller.ts';

@Controller('v1/things')
class ThingsController {
  @Get(':id')
  get() {
    return {};
  }

  @Post(':id/archive')
  archive() {
    return {};
  }
}

@Module({})
class ThingsModule {}

const module = { module: ThingsModule, controllers: [ThingsController, OpenApiController] };
const thing = z.object({ id: z.string() });

describe('undocumentedRoutes', () => {
  it('names each route Nest registers that the document leaves out, with its path in OpenAPI form', () => {
    const document = platformOpenApiDocument({ title: 't', description: 'd', paths: { '/v1/things/{id}': { get: { requestParams: { path: thing }, responses: { '200': json('A thing.', thing) } } } } });
    expect(undocumentedRoutes(module, document)).toEqual([{ method: 'POST', path: '/v1/things/{id}/archive' }]);
  });

  it('leaves out the document and reference page themselves', () => {
    const document = platformOpenApiDocument({
      title: 't',
      description: 'd',
      paths: { '/v1/things/{id}': { get: { responses: { '200': json('A thing.', thing) } } }, '/v1/things/{id}/archive': { post: { responses: { '201': { description: 'Archived.' } } } } },
    });
    expect(undocumentedRoutes(module, document)).toEqual([]);
  });
});
