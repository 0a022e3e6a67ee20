import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyWorkspace, guideCommands } from './workspace-copy.ts';

describe('copyWorkspace', () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'aip-copy-'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('copies project files, links node_modules entries, and points workspace packages into the copy', () => {
    const root = join(base, 'ws');
    mkdirSync(join(root, 'libs/contracts'), { recursive: true });
    mkdirSync(join(root, 'node_modules/@aip'), { recursive: true });
    mkdirSync(join(root, 'node_modules/zod'), { recursive: true });
    mkdirSync(join(root, '.runtime'), { recursive: true });
    writeFileSync(join(root, '.gitignore'), 'node_modules/\n.runtime/\nignored.txt\n');
    writeFileSync(join(root, 'libs/contracts/index.ts'), 'export const original = true;\n');
    writeFileSync(join(root, 'ignored.txt'), 'not part of the project\n');
    writeFileSync(join(root, 'node_modules/zod/index.js'), '');
    symlinkSync('../../libs/contracts', join(root, 'node_modules/@aip/contracts'));
    execFileSync('git', ['init', '-q'], { cwd: root });

    const copy = join(base, 'copy');
    copyWorkspace(root, copy);
    writeFileSync(join(copy, 'libs/contracts/index.ts'), 'export const copied = true;\n');

    expect(readFileSync(join(copy, 'node_modules/@aip/contracts/index.ts'), 'utf8')).toBe('export const copied = true;\n');
    expect(readFileSync(join(root, 'libs/contracts/index.ts'), 'utf8')).toBe('export const original = true;\n');
    expect(realpathSync(join(copy, 'node_modules/zod'))).toBe(realpathSync(join(root, 'node_modules/zod')));
    expect(realpathSync(join(copy, '.runtime'))).toBe(realpathSync(join(root, '.runtime')));
    expect(() => readFileSync(join(copy, 'ignored.txt'))).toThrow();
  });
});

describe('guideCommands', () => {
  it('takes the lines of the marked code blocks only, joining continued lines and dropping comments', () => {
    const guide = [
      'Intro', '```bash', 'npm start', '```',
      '<!-- walk-through -->', '```bash', 'npx nx g @aip/generators:consumer \\', '  --event=a.b.c', '# a comment', '```',
      'text', '<!-- walk-through -->', '```', 'npx nx test x  # unit', 'npx nx int-test x', '```',
    ].join('\n');
    expect(guideCommands(guide)).toEqual(['npx nx g @aip/generators:consumer --event=a.b.c', 'npx nx test x', 'npx nx int-test x']);
  });

  it('reads the real guide: a generator command first, then the checks', () => {
    const commands = guideCommands(readFileSync(join(import.meta.dirname, '../../../../docs/guides/adding-a-consumer.md'), 'utf8'));
    expect(commands[0]).toMatch(/^npx nx g @aip\/generators:consumer --event=\S+ /);
    expect(commands).toContain('npx nx int-test @aip/rate-limiter');
  });
});
