import { readFileSync } from 'node:fs';
import { createLogger, undocumentedRoutes } from '@aip/runtime';
import { Redis } from 'ioredis';
import { AppModule } from './app.module.ts';
import { rateLimiterEnvSchema } from './rate-limiter.config.ts';
import { appOpenApi } from './rate-limiter.openapi.ts';

describe('the OpenAPI document of rate-limiter', () => {
  it('matches the checked-in docs/openapi/rate-limiter.json (run `npm run openapi` after changing the API)', () => {
    const checkedIn: unknown = JSON.parse(readFileSync(new URL('../../../docs/openapi/rate-limiter.json', import.meta.url), 'utf8'));
    expect(checkedIn).toEqual(appOpenApi());
  });

  it('documents every route the app registers', () => {
    // Nothing connects: the module is only read for its controllers.
    const redis = new Redis({ lazyConnect: true });
    const module = AppModule.register(rateLimiterEnvSchema.parse({}), redis, createLogger('rate-limiter', 'silent'));
    redis.disconnect();
    expect(undocumentedRoutes(module, appOpenApi())).toEqual([]);
  });
});
