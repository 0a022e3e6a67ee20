import { readFileSync } from 'node:fs';
import { createLogger, undocumentedRoutes } from '@aip/runtime';
import { Redis } from 'ioredis';
import { AppModule } from './app.module.ts';
import { inferenceEnvSchema } from './inference.config.ts';
import { appOpenApi } from './inference.openapi.ts';

describe('the OpenAPI document of inference', () => {
  it('matches the checked-in docs/openapi/inference.json (run `npm run openapi` after changing the API)', () => {
    const checkedIn: unknown = JSON.parse(readFileSync(new URL('../../../docs/openapi/inference.json', import.meta.url), 'utf8'));
    expect(checkedIn).toEqual(appOpenApi());
  });

  it('documents every route the app registers', () => {
    // Nothing connects: the module is only read for its controllers.
    const redis = new Redis({ lazyConnect: true });
    const module = AppModule.register(inferenceEnvSchema.parse({}), redis, createLogger('inference', 'silent'));
    redis.disconnect();
    expect(undocumentedRoutes(module, appOpenApi())).toEqual([]);
  });
});
