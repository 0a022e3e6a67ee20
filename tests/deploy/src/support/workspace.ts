import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const root = fileURLToPath(new URL('../../../../', import.meta.url));

export const dockerfilePath = join(root, 'deploy/docker/Dockerfile');
export const composePath = join(root, 'deploy/compose/compose.yaml');
export const overlays = ['local', 'production'] as const;
export type Overlay = (typeof overlays)[number];

/**
 * Every deployable app of the platform: a folder in apps/ whose package.json tags it `type:app`.
 * apps/web (`type:ui`) is no deployable of its own: rtc-push's image serves it.
 */
export function workspaceApps(): string[] {
  const dir = join(root, 'apps');
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'package.json')))
    .filter((name) => (JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')) as { nx?: { tags?: string[] } }).nx?.tags?.includes('type:app'))
    .sort();
}

/** Apps whose build output exists (`apps/<name>/dist/main.js`). */
export function builtApps(): string[] {
  return workspaceApps().filter((name) => existsSync(join(root, 'apps', name, 'dist', 'main.js')));
}

export const read = (path: string) => readFileSync(join(root, path), 'utf8');

/**
 * Path of a tool, installed from Debian first when missing (tools/deploy/ensure-tool.sh); CI
 * machines start without kubectl and tini.
 */
export function ensureTool(command: string): string {
  return execFileSync(join(root, 'tools/deploy/ensure-tool.sh'), [command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}
