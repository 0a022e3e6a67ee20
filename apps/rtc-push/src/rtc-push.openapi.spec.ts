import { readFileSync } from 'node:fs';
import { createLogger, undocumentedRoutes } from '@aip/runtime';
import { Redis } from 'ioredis';
import { AppModule } from './app.module.ts';
import { appOpenApi } from './rtc-push.openapi.ts';
import { rtcEnvSchema } from './rtc.config.ts';

describe('the OpenAPI document of rtc-push', () => {
  it('matches the checked-in docs/openapi/rtc-push.json (run `npm run openapi` after changing the API)', () => {
    const checkedIn: unknown = JSON.parse(readFileSync(new URL('../../../docs/openapi/rtc-push.json', import.meta.url), 'utf8'));
    expect(checkedIn).toEqual(appOpenApi());
  });

  it('documents every route the app registers', () => {
    // Nothing connects: the module is only read for its controllers.
    const redis = new Redis({ lazyConnect: true });
    const module = AppModule.register(rtcEnvSchema.parse({}), redis, createLogger('rtc-push', 'silent'));
    redis.disconnect();
    expect(undocumentedRoutes(module, appOpenApi())).toEqual([]);
  });
});
