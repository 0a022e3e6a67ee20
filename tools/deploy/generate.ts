// Writes the generated deployment files (the app manifests of deploy/k8s/base/apps and the broker
// topology script). Run from the repository root:
//   node --conditions=@aip/source tools/deploy/generate.ts          # write
//   node --conditions=@aip/source tools/deploy/generate.ts --check  # exit 1 when a file differs
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedFiles } from './outputs.ts';

const root = join(import.meta.dirname, '..', '..');
const check = process.argv.includes('--check');
const stale: string[] = [];
for (const [path, content] of generatedFiles()) {
  const file = join(root, path);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (current === content) continue;
  if (check) {
    stale.push(path);
    continue;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
  console.log(`wrote ${path}`);
}
if (check && stale.length > 0) {
  console.error(`out of date (run node --conditions=@aip/source tools/deploy/generate.ts):\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
