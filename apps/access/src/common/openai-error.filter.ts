import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { OpenAIError } from './openai-error.ts';

/**
 * Every error a client sees is in OpenAI's shape and carries the request id; stack traces and
 * internals stay in the logs.
 */
@Catch()
export class OpenAIErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost) {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    if (reply.sent || reply.raw.headersSent) return;
    const requestId = String(request.id);
    if (exception instanceof OpenAIError) {
      for (const [name, value] of Object.entries(exception.headers)) void reply.header(name, value);
      return reply.status(exception.getStatus()).header('x-request-id', requestId).send(exception.getResponse());
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message = typeof body === 'string' ? body : ((body as { message?: string | string[] }).message ?? exception.message);
      const type = status === 404 ? 'not_found_error' : status === 413 ? 'invalid_request_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
      return reply.status(status).header('x-request-id', requestId).send({ error: { message: Array.isArray(message) ? message.join('; ') : message, type, param: null, code: null } });
    }
    const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
    if (fastifyError.statusCode === 413 || fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).header('x-request-id', requestId).send({ error: { message: 'Request body too large.', type: 'invalid_request_error', param: null, code: 'body_too_large' } });
    }
    if (fastifyError.statusCode === 400) {
      return reply.status(400).header('x-request-id', requestId).send({ error: { message: `Malformed request: ${fastifyError.message ?? 'bad body'}`, type: 'invalid_request_error', param: null, code: 'invalid_json' } });
    }
    this.logger.error({ requestId, err: exception instanceof Error ? { message: exception.message, stack: exception.stack } : String(exception) }, 'unhandled error');
    return reply.status(500).header('x-request-id', requestId).send({ error: { message: 'Internal error.', type: 'api_error', param: null, code: 'internal_error' } });
  }
}
