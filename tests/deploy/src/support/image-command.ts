// Turns the runtime stage of the Dockerfile into the process CI can start on this machine: the
// same argv and environment, with the image's paths mapped onto the workspace:
//   /app/service/… → apps/<app>/…   (the app's package.json and dist)
//   /app/models    → <repo>/.runtime/models (where @aip/embeddings caches the model locally)
//   /app/…         → <repo>/…       (node_modules and libs/*/dist, as the workspace has them)
//   /data          → a temporary directory
// `node` is this Node (24, like the base image); /usr/bin/tini is installed when missing.
import { join } from 'node:path';
import type { RuntimeStage } from './dockerfile.ts';
import { ensureTool, root } from './workspace.ts';

export interface HostCommand {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

export function hostPath(value: string, app: string, dataDir: string): string {
  if (value === '/app/service' || value.startsWith('/app/service/')) return join(root, 'apps', app, value.slice('/app/service'.length));
  if (value === '/app/models' || value.startsWith('/app/models/')) return join(root, '.runtime/models', value.slice('/app/models'.length));
  if (value === '/app' || value.startsWith('/app/')) return join(root, value.slice('/app'.length));
  if (value === '/data' || value.startsWith('/data/')) return join(dataDir, value.slice('/data'.length));
  return value;
}

export function hostCommand(stage: RuntimeStage, app: string, dataDir: string, extraEnv: Record<string, string>): HostCommand {
  const [program, ...rest] = stage.command;
  if (!program) throw new Error('the image has no ENTRYPOINT/CMD');
  const executable = (name: string) => (name === 'node' ? process.execPath : name.startsWith('/usr/bin/') ? ensureTool(name.slice('/usr/bin/'.length)) : hostPath(name, app, dataDir));
  // tini runs the rest of the argv: resolve its program too.
  const args = rest.map((arg, index) => (index > 0 && rest[index - 1] === '--' ? executable(arg) : hostPath(arg, app, dataDir)));
  const env = Object.fromEntries(Object.entries({ ...stage.env, ...extraEnv }).map(([key, value]) => [key, hostPath(value, app, dataDir)]));
  return { file: executable(program), args, env, cwd: hostPath(stage.workdir ?? '/', app, dataDir) };
}
