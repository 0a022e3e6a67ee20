import { platformOpenApiDocument } from '@aip/runtime';

/** rate-limiter's OpenAPI document: health and metrics only. */
export function appOpenApi(): Record<string, unknown> {
  return platformOpenApiDocument({ title: 'rate-limiter', description: 'The admission service: it has no API of its own, only health and metrics (admission happens over the broker).', paths: {} });
}
