import 'reflect-metadata';
import { BadRequestException, Body, Controller, HttpException, Module, NotFoundException, Post, type ArgumentsHost } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiError, parseRequest } from './api-error.ts';
import { ApiErrorFilter } from './api-error.filter.ts';

function fakeLogger() {
  const errors: unknown[] = [];
  return { errors, logger: { error: (...args: unknown[]) => void errors.push(args), warn: () => undefined } as unknown as Logger };
}

function fakeHost(sent = false) {
  const reply = {
    sent,
    raw: { headersSent: sent },
    statusCode: 0,
    headers: {} as Record<string, string>,
    body: undefined as unknown,
    status(code: number) {
      this.statusCode = code;
      return this;
    },
    header(name: string, value: string) {
      this.headers[name] = value;
      return this;
    },
    send(payload: unknown) {
      this.body = payload;
      return this;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => reply, getRequest: () => ({ id: 'req-1' }) }) } as unknown as ArgumentsHost;
  return { reply, host };
}

function caught(exception: unknown, options?: ConstructorParameters<typeof ApiErrorFilter>[1]) {
  const { logger, errors } = fakeLogger();
  const { reply, host } = fakeHost();
  new ApiErrorFilter(logger, options).catch(exception, host);
  return { status: reply.statusCode, headers: reply.headers, body: reply.body, logged: errors };
}

describe('ApiErrorFilter', () => {
  it('answers 503 (retry shortly) when Redis cannot be reached, not 500', () => {
    const outage = Object.assign(new Error('Reached the max retries per request limit (which is 1).'), { name: 'MaxRetriesPerRequestError' });
    for (const error of [outage, new Error('Connection is closed.')]) {
      expect(caught(error)).toMatchObject({ status: 503, body: { error: { type: 'service_unavailable', code: 'service_unavailable', message: 'Storage (Redis) is unavailable; retry shortly.' } }, logged: [] });
    }
    expect(caught(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toMatchObject({ status: 500 });
  });

  it('sends an ApiError as it is, with its headers and the request id', () => {
    const error = new ApiError(429, 'Slow down.', 'rate_limit_error', 'rate_limited', null, { 'retry-after': '3' });
    expect(caught(error)).toMatchObject({
      status: 429,
      headers: { 'retry-after': '3', 'x-request-id': 'req-1' },
      body: { error: { message: 'Slow down.', type: 'rate_limit_error', param: null, code: 'rate_limited' } },
    });
  });

  it('maps other HttpExceptions to the standard shape', () => {
    expect(caught(new NotFoundException('Cannot GET /nope'))).toMatchObject({ status: 404, body: { error: { message: 'Cannot GET /nope', type: 'not_found_error', code: null } } });
    expect(caught(new BadRequestException(['a is wrong', 'b is wrong']))).toMatchObject({ status: 400, body: { error: { message: 'a is wrong; b is wrong', type: 'invalid_request_error' } } });
    expect(caught(new HttpException('Bad gateway', 502))).toMatchObject({ status: 502, body: { error: { message: 'Bad gateway', type: 'api_error' } } });
    // Only Fastify's own errors (FST_ codes) as cause get the specific mapping; an app's cause does not.
    expect(caught(new HttpException('Conflict', 409, { cause: Object.assign(new Error('x'), { statusCode: 400 }) }))).toMatchObject({ status: 409, body: { error: { message: 'Conflict', code: null } } });
    expect(caught(new HttpException('Too slow', 408, { cause: Object.assign(new Error('x'), { code: 'FST_ERR_X', statusCode: 408 }) }))).toMatchObject({ status: 408, body: { error: { message: 'Too slow', type: 'invalid_request_error' } } });
  });

  it('names multipart limits with the app’s own hint', () => {
    const error = Object.assign(new Error('reach files limit'), { code: 'FST_FILES_LIMIT', statusCode: 413 });
    expect(caught(error, { tooManyParts: { message: 'Send one file.', param: 'file' } })).toMatchObject({ status: 400, body: { error: { message: 'Send one file.', param: 'file', code: 'too_many_parts' } } });
    expect(caught(error)).toMatchObject({ status: 400, body: { error: { param: null, code: 'too_many_parts' } } });
  });

  it('answers Fastify’s 413, 415, 400 and 406 errors in the standard shape', () => {
    expect(caught(Object.assign(new Error('request file too large'), { code: 'FST_REQ_FILE_TOO_LARGE' }))).toMatchObject({ status: 413, body: { error: { code: 'body_too_large' } } });
    expect(caught(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }), { unsupportedMediaType: 'Send JSON or a form.' })).toMatchObject({ status: 415, body: { error: { message: 'Send JSON or a form.', code: 'unsupported_content_type' } } });
    expect(caught(Object.assign(new Error('Body is not valid JSON but content-type is set to \'application/json\''), { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 }))).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    expect(caught(Object.assign(new Error('not acceptable'), { statusCode: 406 }))).toMatchObject({ status: 400, body: { error: { code: 'malformed_request', message: 'Malformed request: not acceptable' } } });
  });

  it('hides internals of unexpected errors from the client and logs them with the request id', () => {
    const result = caught(new Error('password=hunter2 at db.ts:12'));
    expect(result).toMatchObject({ status: 500, body: { error: { message: 'Internal error.', type: 'api_error', code: 'internal_error' } } });
    expect(JSON.stringify(result.body)).not.toContain('hunter2');
    expect(result.logged).toEqual([[expect.objectContaining({ requestId: 'req-1', err: expect.objectContaining({ message: 'password=hunter2 at db.ts:12' }) }), 'unhandled error']]);
    expect(caught('a string').status).toBe(500);
  });

  it('leaves a reply that already started alone', () => {
    const { logger } = fakeLogger();
    const { reply, host } = fakeHost(true);
    new ApiErrorFilter(logger).catch(new Error('late'), host);
    expect(reply.statusCode).toBe(0);
  });
});

describe('ApiErrorFilter in a Fastify app', () => {
  const schema = z.object({ name: z.string().min(1) });

  @Controller('things')
  class ThingsController {
    @Post()
    create(@Body() body: unknown) {
      return parseRequest(schema, body);
    }
  }

  @Module({ controllers: [ThingsController] })
  class ThingsModule {}

  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(ThingsModule, new FastifyAdapter({ bodyLimit: 1_000 }), { logger: false });
    app.useGlobalFilters(new ApiErrorFilter(fakeLogger().logger));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(() => app.close());

  const post = (payload: string, contentType = 'application/json') => app.inject({ method: 'POST', url: '/things', payload, headers: { 'content-type': contentType } });

  it('answers real parser errors and validation failures in the standard shape', async () => {
    const ok = await post('{"name":"x"}');
    expect(ok.statusCode).toBe(201);
    const cases: [string, string | undefined, number, string][] = [
      ['{"name":', undefined, 400, 'invalid_json'],
      [JSON.stringify({ name: 'x'.repeat(2_000) }), undefined, 413, 'body_too_large'],
      ['<name/>', 'application/xml', 415, 'unsupported_content_type'],
      ['{"name":""}', undefined, 400, 'invalid_request'],
    ];
    for (const [payload, contentType, status, code] of cases) {
      const response = await post(payload, contentType);
      expect({ status: response.statusCode, body: response.json() as unknown }).toMatchObject({ status, body: { error: { code, type: 'invalid_request_error' } } });
      expect(response.headers['x-request-id']).toBeTruthy();
    }
    expect((await post('{"name":""}')).json()).toMatchObject({ error: { param: 'name', message: expect.stringMatching(/^name: /) } });
  });
});
