import { HttpException } from '@nestjs/common';
import type { z } from 'zod';

export type ApiErrorType = 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error' | 'conflict_error' | 'api_error' | 'service_unavailable';

/** The platform's error shape (as access, OpenAI-style): `{ error: { message, type, param, code } }`. */
export class ApiError extends HttpException {
  constructor(status: number, message: string, type: ApiErrorType, code: string | null = null, param: string | null = null) {
    super({ error: { message, type, param, code } }, status);
  }
}

export const errors = {
  invalidKey: () => new ApiError(401, 'Incorrect or revoked API key provided.', 'authentication_error', 'invalid_api_key'),
  missingKey: () => new ApiError(401, 'No API key provided: send "Authorization: Bearer <key>".', 'authentication_error', 'missing_api_key'),
  // Another tenant's knowledge base is indistinguishable from one that does not exist.
  kbNotFound: (kbId: string) => new ApiError(404, `No knowledge base '${kbId}'.`, 'not_found_error', 'knowledge_base_not_found', 'kb'),
  kbExists: (kbId: string) => new ApiError(409, `The knowledge base '${kbId}' already exists.`, 'conflict_error', 'knowledge_base_exists', 'id'),
  documentNotFound: (docId: string) => new ApiError(404, `No document '${docId}' in this knowledge base.`, 'not_found_error', 'document_not_found', 'doc'),
  invalid: (message: string, param: string | null = null, code = 'invalid_request') => new ApiError(400, message, 'invalid_request_error', code, param),
  tooLarge: (limit: number) => new ApiError(413, `The file is larger than the limit of ${limit} bytes.`, 'invalid_request_error', 'file_too_large', 'file'),
  unavailable: (what: string) => new ApiError(503, `${what} is unavailable; retry shortly.`, 'service_unavailable', 'service_unavailable'),
};

/** Validates a request part with zod; the first problem becomes a 400 naming the field. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.join('.') || null;
  throw errors.invalid(param ? `${param}: ${issue.message}` : issue.message, param);
}
