import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from './api-error.ts';

type Body = { error: { message: string; type: string; param: string | null; code: string | null } };

/** Every error a client sees has the platform's shape and the request id; internals stay in the logs. */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost) {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    if (reply.sent || reply.raw.headersSent) return;
    const requestId = String(request.id);
    const send = (status: number, body: Body) => reply.status(status).header('x-request-id', requestId).send(body);
    if (exception instanceof ApiError) return send(exception.getStatus(), exception.getResponse() as Body);
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message = typeof body === 'string' ? body : ((body as { message?: string | string[] }).message ?? exception.message);
      const type = status === 404 ? 'not_found_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
      return send(status, { error: { message: Array.isArray(message) ? message.join('; ') : message, type, param: null, code: null } });
    }
    const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
    if (fastifyError.code === 'FST_FILES_LIMIT' || fastifyError.code === 'FST_PARTS_LIMIT' || fastifyError.code === 'FST_FIELDS_LIMIT') {
      return send(400, { error: { message: 'Send one file (part "file") and at most 20 text fields.', type: 'invalid_request_error', param: 'file', code: 'too_many_parts' } });
    }
    if (fastifyError.statusCode === 413 || fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fastifyError.code === 'FST_REQ_FILE_TOO_LARGE') {
      return send(413, { error: { message: `Request too large: ${fastifyError.message ?? 'over the limit'}.`, type: 'invalid_request_error', param: null, code: 'body_too_large' } });
    }
    if (fastifyError.statusCode === 415 || fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return send(415, { error: { message: 'Send JSON (application/json) or a multipart form (multipart/form-data).', type: 'invalid_request_error', param: null, code: 'unsupported_content_type' } });
    }
    if (fastifyError.statusCode === 400 || fastifyError.statusCode === 406) {
      return send(400, { error: { message: `Malformed request: ${fastifyError.message ?? 'bad body'}`, type: 'invalid_request_error', param: null, code: 'malformed_request' } });
    }
    this.logger.error({ requestId, err: exception instanceof Error ? { message: exception.message, stack: exception.stack } : String(exception) }, 'unhandled error');
    return send(500, { error: { message: 'Internal error.', type: 'api_error', param: null, code: 'internal_error' } });
  }
}
