import { readFileSync } from 'node:fs';
import { createLogger, undocumentedRoutes } from '@aip/runtime';
import { Redis } from 'ioredis';
import type { KnowledgeIngestDeps } from './app.module.ts';
import { AppModule } from './app.module.ts';
import { appOpenApi } from './knowledge-ingest.openapi.ts';
import { knowledgeIngestEnvSchema } from './knowledge-ingest.config.ts';

describe('the OpenAPI document of knowledge-ingest', () => {
  it('matches the checked-in docs/openapi/knowledge-ingest.json (run `npm run openapi` after changing the API)', () => {
    const checkedIn: unknown = JSON.parse(readFileSync(new URL('../../../docs/openapi/knowledge-ingest.json', import.meta.url), 'utf8'));
    expect(checkedIn).toEqual(appOpenApi());
  });

  it('documents every route the app registers', () => {
    // Nothing connects or starts: the module is only read for its controllers.
    const redis = new Redis({ lazyConnect: true });
    const deps = { redis, logger: createLogger('knowledge-ingest', 'silent'), store: {}, embeddings: { embeddings: {}, modelId: 'none' } } as unknown as KnowledgeIngestDeps;
    const module = AppModule.register(knowledgeIngestEnvSchema.parse({}), deps);
    redis.disconnect();
    expect(undocumentedRoutes(module, appOpenApi())).toEqual([]);
  });
});
