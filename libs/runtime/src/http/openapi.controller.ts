import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Controller, Get, Header, Inject, NotFoundException, Param, Res, type Provider } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/** DI token of the app's OpenAPI document (a plain JSON object). */
export const OPENAPI_DOCUMENT = Symbol('OPENAPI_DOCUMENT');

/** The provider of an app's OpenAPI document, built once when the app starts. */
export const provideOpenApi = (build: () => Record<string, unknown>): Provider => ({ provide: OPENAPI_DOCUMENT, useFactory: build });

const require = createRequire(import.meta.url);
/** Swagger UI's files, from the swagger-ui-dist package: the page loads nothing from the internet. */
const ASSETS: Record<string, string> = { 'swagger-ui.css': 'text/css; charset=utf-8', 'swagger-ui-bundle.js': 'text/javascript; charset=utf-8' };

// validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io.
const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>API reference</title><link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="reference"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: '/openapi.json', dom_id: '#reference', validatorUrl: null, deepLinking: true });</script></body>
</html>
`;

/**
 * `GET /openapi.json` (the app's OpenAPI 3.1 document) and `GET /docs` (Swagger UI over it, served
 * from the swagger-ui-dist package). Unauthenticated, like health: the document holds no secret.
 */
@Controller()
export class OpenApiController {
  private readonly assets = new Map<string, Buffer>();

  constructor(@Inject(OPENAPI_DOCUMENT) private readonly document: Record<string, unknown>) {}

  @Get('openapi.json')
  openApi() {
    return this.document;
  }

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  page() {
    return PAGE;
  }

  @Get('docs/:asset')
  asset(@Param('asset') name: string, @Res() reply: FastifyReply) {
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!type) throw new NotFoundException(`no file ${name} under /docs`);
    let body = this.assets.get(name);
    if (!body) this.assets.set(name, (body = readFileSync(require.resolve(`swagger-ui-dist/${name}`))));
    return reply.type(type).header('cache-control', 'public, max-age=3600').send(body);
  }
}
