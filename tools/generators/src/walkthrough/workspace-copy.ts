// A throw-away copy of the workspace for walking through a guide for real: the project's files
// (tracked and untracked, not ignored) are copied; node_modules and .runtime are linked, not
// copied. node_modules gets a fresh folder whose entries link to the original's — except the
// workspace packages (@aip/*), which link to the COPY's packages, so code in the copy imports the
// copy's libs and not the original ones.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The workspace scope whose node_modules links must point into the copy. */
export const WORKSPACE_SCOPE = '@aip';

export function projectFiles(root: string): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  // Deleted-but-tracked files are still listed by --cached.
  return out.split('\0').filter((file) => file && existsSync(join(root, file)));
}

/** Links `target/node_modules` to `root/node_modules`, entry by entry, re-pointing @aip/* into the copy. */
export function linkNodeModules(root: string, target: string): void {
  const source = join(root, 'node_modules');
  const into = join(target, 'node_modules');
  mkdirSync(into, { recursive: true });
  for (const entry of readdirSync(source)) {
    if (entry === WORKSPACE_SCOPE) continue;
    symlinkSync(join(source, entry), join(into, entry));
  }
  const scope = join(source, WORKSPACE_SCOPE);
  if (!existsSync(scope)) return;
  mkdirSync(join(into, WORKSPACE_SCOPE));
  for (const name of readdirSync(scope)) {
    // npm links workspaces relatively (../../libs/x); the same relative path inside the copy.
    const linked = resolve(scope, readlinkSync(join(scope, name)));
    const inCopy = join(target, relative(root, linked));
    if (relative(root, linked).startsWith('..')) throw new Error(`${WORKSPACE_SCOPE}/${name} points outside the workspace (${linked})`);
    symlinkSync(relative(join(into, WORKSPACE_SCOPE), inCopy), join(into, WORKSPACE_SCOPE, name));
  }
}

/** Copies the workspace at `root` to `target` (which must not exist yet); returns the file count. */
export function copyWorkspace(root: string, target: string, links: string[] = ['.runtime']): number {
  const files = projectFiles(root);
  for (const file of files) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    cpSync(join(root, file), join(target, file), { preserveTimestamps: true });
  }
  linkNodeModules(root, target);
  for (const link of links) if (existsSync(join(root, link))) symlinkSync(join(root, link), join(target, link));
  return files.length;
}

/**
 * The commands a guide asks the reader to run, in order: every line of a fenced code block that
 * directly follows a `<!-- walk-through -->` marker. The test runs exactly these.
 */
export function guideCommands(markdown: string): string[] {
  const commands: string[] = [];
  const pattern = /<!--\s*walk-through\s*-->\s*\n```[a-z]*\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(pattern)) {
    const block = (match[1] ?? '').replace(/\s*\\\n\s*/g, ' ');
    for (const line of block.split('\n')) {
      const command = line.replace(/\s+#.*$/, '').trim();
      if (command && !command.startsWith('#')) commands.push(command);
    }
  }
  return commands;
}
