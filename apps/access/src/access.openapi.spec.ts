import { readFileSync } from 'node:fs';
import { createLogger, undocumentedRoutes } from '@aip/runtime';
import { Redis } from 'ioredis';
import { accessEnvSchema } from './access.config.ts';
import { appOpenApi } from './access.openapi.ts';
import { AppModule } from './app.module.ts';

describe('the OpenAPI document of access', () => {
  it('matches the checked-in docs/openapi/access.json (run `npm run openapi` after changing the API)', () => {
    const checkedIn: unknown = JSON.parse(readFileSync(new URL('../../../docs/openapi/access.json', import.meta.url), 'utf8'));
    expect(checkedIn).toEqual(appOpenApi());
  });

  it('documents every route the app registers', () => {
    // Nothing connects: the module is only read for its controllers.
    const redis = new Redis({ lazyConnect: true });
    const module = AppModule.register(accessEnvSchema.parse({ ADMIN_TOKEN: 'a'.repeat(32) }), redis, createLogger('access', 'silent'));
    redis.disconnect();
    expect(undocumentedRoutes(module, appOpenApi())).toEqual([]);
  });
});
