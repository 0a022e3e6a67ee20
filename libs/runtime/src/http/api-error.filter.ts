import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isRedisUnavailable } from '../redis.ts';
import { ApiError, httpErrors, type ApiErrorBody, type ApiErrorType } from './api-error.ts';

/** What an app tells clients in the errors that depend on what it accepts. */
export interface ApiErrorFilterOptions {
  /** Multipart limits reached (too many files, parts or fields). */
  tooManyParts?: { message: string; param?: string | null };
  /** An unsupported `Content-Type` (name the formats the app accepts). */
  unsupportedMediaType?: string;
}

type FastifyLikeError = { statusCode?: number; code?: string; message?: string };

const MULTIPART_LIMITS = new Set(['FST_FILES_LIMIT', 'FST_PARTS_LIMIT', 'FST_FIELDS_LIMIT']);
const JSON_ERRORS = new Set(['FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY']);

const fastifyCause = (exception: HttpException): unknown => {
  const code = (exception.cause as FastifyLikeError | undefined)?.code;
  return typeof code === 'string' && code.startsWith('FST_') ? exception.cause : undefined;
};

const body = (message: string, type: ApiErrorType, code: string | null, param: string | null = null): ApiErrorBody => ({ error: { message, type, param, code } });

/**
 * Every error a client sees has the platform's shape (OpenAI's) and the request id (`x-request-id`);
 * stack traces and internals stay in the logs.
 */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    private readonly options: ApiErrorFilterOptions = {},
  ) {}

  catch(exception: unknown, host: ArgumentsHost) {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    // A stream (SSE) that already started cannot switch to an error body.
    if (reply.sent || reply.raw.headersSent) return;
    const requestId = String(request.id);
    const send = (status: number, payload: ApiErrorBody) => reply.status(status).header('x-request-id', requestId).send(payload);
    if (exception instanceof ApiError) {
      for (const [name, value] of Object.entries(exception.headers)) void reply.header(name, value);
      return send(exception.getStatus(), exception.getResponse());
    }
    // Nest turns Fastify's own errors (body parser, content type) into HttpExceptions carrying the
    // original as `cause`; errors of plugins (multipart) thrown in a handler arrive as they are.
    const fastify = this.fromFastify(exception instanceof HttpException ? fastifyCause(exception) : exception);
    if (fastify) return send(...fastify);
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message = typeof response === 'string' ? response : ((response as { message?: string | string[] }).message ?? exception.message);
      const type = status === 404 ? 'not_found_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
      return send(status, body(Array.isArray(message) ? message.join('; ') : message, type, null));
    }
    if (isRedisUnavailable(exception)) {
      // Nothing was decided or lost: the client may retry the same request.
      const unavailable = httpErrors.unavailable('Storage (Redis)');
      this.logger.warn({ requestId, err: (exception as Error).message }, 'Redis unavailable: answered 503');
      return send(unavailable.getStatus(), unavailable.getResponse());
    }
    this.logger.error({ requestId, err: exception instanceof Error ? { message: exception.message, stack: exception.stack } : String(exception) }, 'unhandled error');
    return send(500, body('Internal error.', 'api_error', 'internal_error'));
  }

  private fromFastify(exception: unknown): [number, ApiErrorBody] | undefined {
    if (typeof exception !== 'object' || exception === null) return undefined;
    const error = exception as FastifyLikeError;
    if (error.code && MULTIPART_LIMITS.has(error.code)) {
      const { message, param = null } = this.options.tooManyParts ?? { message: 'The multipart form has too many files, parts or fields.' };
      return [400, body(message, 'invalid_request_error', 'too_many_parts', param)];
    }
    if (error.statusCode === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.code === 'FST_REQ_FILE_TOO_LARGE') {
      return [413, body(error.code === 'FST_REQ_FILE_TOO_LARGE' ? 'The uploaded file is too large.' : 'Request body too large.', 'invalid_request_error', 'body_too_large')];
    }
    if (error.statusCode === 415 || error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return [415, body(this.options.unsupportedMediaType ?? 'Unsupported Content-Type: send JSON (application/json).', 'invalid_request_error', 'unsupported_content_type')];
    }
    if (error.statusCode === 400 || error.statusCode === 406) {
      const code = error.code && JSON_ERRORS.has(error.code) ? 'invalid_json' : 'malformed_request';
      return [400, body(`Malformed request: ${error.message ?? 'bad body'}`, 'invalid_request_error', code)];
    }
    return undefined;
  }
}
