import { ApiError } from '@aip/runtime';
import type { TaskEvent } from '@aip/tasks';
import { rateLimitError } from './rate-limit-headers.ts';

type ErrorEvent = Extract<TaskEvent, { type: 'error' }>;

/** A task's error event as the HTTP error a synchronous client gets (chat completions, responses). */
export function errorFor(event: ErrorEvent): ApiError {
  if (event.status === 429) return rateLimitError(event);
  if (event.status === 404) return new ApiError(404, event.message, 'not_found_error', event.code, 'model');
  // The model cannot do what the request asks (tools for a retrieval-only model, …).
  if (event.status === 400) return new ApiError(400, event.message, 'invalid_request_error', event.code, null);
  if (event.status === 503) return new ApiError(503, event.message, 'service_unavailable', event.code);
  return new ApiError(502, event.message, 'api_error', event.code);
}
