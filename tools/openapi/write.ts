// Writes docs/openapi/<app>.json from each app's built document (apps/<app>/dist/<app>.openapi.js).
// Run: npm run openapi (builds the apps first). The documents are loaded from the build, not the
// sources: Node runs TypeScript without decorators, and the documents import controllers' schemas
// through libraries that hold Nest classes. A test of each app fails when its file differs.
import { mkdirSync, writeFileSync } from 'node:fs';

const APPS = ['access', 'knowledge-ingest', 'rtc-push', 'intent-scheduler', 'rate-limiter', 'inference'];
const target = new URL('../../docs/openapi/', import.meta.url);
mkdirSync(target, { recursive: true });
for (const app of APPS) {
  const { appOpenApi } = (await import(new URL(`../../apps/${app}/dist/${app}.openapi.js`, import.meta.url).href)) as { appOpenApi: () => Record<string, unknown> };
  const file = new URL(`${app}.json`, target);
  writeFileSync(file, `${JSON.stringify(appOpenApi(), null, 2)}\n`);
  console.log(`wrote ${file.pathname}`);
}
