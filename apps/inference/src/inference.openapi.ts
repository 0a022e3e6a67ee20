import { platformOpenApiDocument } from '@aip/runtime';

/** inference's OpenAPI document: health and metrics only. */
export function appOpenApi(): Record<string, unknown> {
  return platformOpenApiDocument({ title: 'inference', description: 'The inference workers: no API of their own, only health and metrics (requests arrive over the broker).', paths: {} });
}
