import { HttpException } from '@nestjs/common';

export type OpenAIErrorType = 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error' | 'rate_limit_error' | 'api_error' | 'service_unavailable';

/** An error in the shape OpenAI clients understand: `{ error: { message, type, param, code } }`. */
export class OpenAIError extends HttpException {
  constructor(
    status: number,
    message: string,
    type: OpenAIErrorType,
    code: string | null = null,
    param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super({ error: { message, type, param, code } }, status);
  }
}

export const errors = {
  invalidKey: () => new OpenAIError(401, 'Incorrect or revoked API key provided.', 'authentication_error', 'invalid_api_key'),
  missingKey: () => new OpenAIError(401, 'No API key provided: send "Authorization: Bearer <key>".', 'authentication_error', 'missing_api_key'),
  modelNotFound: (model: string) => new OpenAIError(404, `The model '${model}' does not exist.`, 'not_found_error', 'model_not_found', 'model'),
  modelNotAllowed: (model: string) => new OpenAIError(403, `This API key may not use the model '${model}'.`, 'permission_error', 'model_not_allowed', 'model'),
  taskNotFound: () => new OpenAIError(404, 'No such task.', 'not_found_error', 'task_not_found'),
  unavailable: (what: string) => new OpenAIError(503, `${what} is unavailable; retry shortly.`, 'service_unavailable', 'service_unavailable'),
};
