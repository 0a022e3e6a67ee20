import { HttpException } from '@nestjs/common';
import { z } from 'zod';

/**
 * What every HTTP API of the platform answers on failure (OpenAI's error shape). The OpenAPI
 * documents show this schema, and {@link ApiError} builds its body by its type.
 */
export const apiErrorBodySchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.enum(['invalid_request_error', 'authentication_error', 'permission_error', 'not_found_error', 'conflict_error', 'rate_limit_error', 'api_error', 'service_unavailable']),
      param: z.string().nullable(),
      code: z.string().nullable(),
    }),
  })
  .meta({ id: 'Error', description: "The platform's error shape (OpenAI's), with the request id in the x-request-id header." });

export type ApiErrorBody = z.infer<typeof apiErrorBodySchema>;
export type ApiErrorType = ApiErrorBody['error']['type'];

/**
 * An error in the shape OpenAI clients understand: `{ error: { message, type, param, code } }`.
 * `headers` (e.g. `retry-after`) are sent with it by {@link ApiErrorFilter}.
 */
export class ApiError extends HttpException {
  constructor(
    status: number,
    message: string,
    readonly type: ApiErrorType,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super({ error: { message, type, param, code } } satisfies ApiErrorBody, status);
  }

  override getResponse(): ApiErrorBody {
    return super.getResponse() as ApiErrorBody;
  }
}

/** The errors every API shares; apps spread these into their own domain `errors` factory. */
export const httpErrors = {
  missingKey: () => new ApiError(401, 'No API key provided: send "Authorization: Bearer <key>".', 'authentication_error', 'missing_api_key'),
  invalidKey: () => new ApiError(401, 'Incorrect or revoked API key provided.', 'authentication_error', 'invalid_api_key'),
  invalid: (message: string, param: string | null = null, code = 'invalid_request') => new ApiError(400, message, 'invalid_request_error', code, param),
  unavailable: (what: string) => new ApiError(503, `${what} is unavailable; retry shortly.`, 'service_unavailable', 'service_unavailable'),
};

/** Validates a request part with zod; the first problem becomes a 400 naming the field. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const param = issue?.path.join('.') || null;
  const message = issue?.message ?? 'invalid request';
  throw httpErrors.invalid(param ? `${param}: ${message}` : message, param);
}
