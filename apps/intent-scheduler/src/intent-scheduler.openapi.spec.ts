import { readFileSync } from 'node:fs';
import { createLogger, undocumentedRoutes } from '@aip/runtime';
import { Redis } from 'ioredis';
import { AppModule, type IntentSchedulerDeps } from './app.module.ts';
import { intentSchedulerEnvSchema } from './intent-scheduler.config.ts';
import { appOpenApi } from './intent-scheduler.openapi.ts';

describe('the OpenAPI document of intent-scheduler', () => {
  it('matches the checked-in docs/openapi/intent-scheduler.json (run `npm run openapi` after changing the API)', () => {
    const checkedIn: unknown = JSON.parse(readFileSync(new URL('../../../docs/openapi/intent-scheduler.json', import.meta.url), 'utf8'));
    expect(checkedIn).toEqual(appOpenApi());
  });

  it('documents every route the app registers', () => {
    // Nothing connects: the module is only read for its controllers.
    const redis = new Redis({ lazyConnect: true });
    const deps = { redis, logger: createLogger('intent-scheduler', 'silent'), embeddings: {} } as unknown as IntentSchedulerDeps;
    const module = AppModule.register(intentSchedulerEnvSchema.parse({}), deps);
    redis.disconnect();
    expect(undocumentedRoutes(module, appOpenApi())).toEqual([]);
  });
});
