// Walks through docs/guides/adding-a-consumer.md for real: a copy of the workspace, the guide's
// own commands (generator, unit tests, integration tests on the running broker, contracts tests
// with the AsyncAPI drift check), then a type check and lint of what the generator wrote.
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { brokerTopology } from '@aip/contracts';
import { copyWorkspace, guideCommands } from './workspace-copy.ts';

const root = join(import.meta.dirname, '../../../..');
const guide = readFileSync(join(root, 'docs/guides/adding-a-consumer.md'), 'utf8');
const commands = guideCommands(guide);
const copy = mkdtempSync(join(tmpdir(), 'aip-guide-'));
const keep = process.env['AIP_KEEP_WALKTHROUGH'] === '1';

function run(command: string): string {
  try {
    return execSync(`${command} 2>&1`, {
      cwd: copy,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      // Node 24 first on PATH (as `npm test` does); no Nx daemon or cloud in a throw-away copy.
      env: { ...env, PATH: `${dirname(process.execPath)}:${env['PATH'] ?? ''}`, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0' },
      timeout: 150_000,
    });
  } catch (error) {
    const failed = error as { stdout?: string; message: string };
    throw new Error(`\`${command}\` failed in ${copy}:\n${failed.stdout || failed.message}`);
  }
}

// The nested runs start from this environment, minus what belongs to this Jest process.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('JEST_')));

const read = (file: string) => readFileSync(join(copy, file), 'utf8');
let generatorOutput = '';

afterAll(() => {
  if (!keep) rmSync(copy, { recursive: true, force: true });
});

describe('docs/guides/adding-a-consumer.md, walked through', () => {
  it('has a generator command and the test commands to walk through', () => {
    expect(commands[0]).toMatch(/^npx nx g @aip\/generators:consumer /);
    expect(commands.slice(1)).toEqual(expect.arrayContaining([expect.stringMatching(/int-test/), expect.stringMatching(/@aip\/contracts/)]));
  });

  it('runs every command of the guide green in a copy of the workspace', () => {
    copyWorkspace(root, copy);
    const outputs = commands.map((command) => ({ command, output: run(command) }));
    generatorOutput = outputs[0]!.output;

    // The generator declared the event and its topic in the copy's contracts...
    const event = /--event[= ](\S+)/.exec(commands[0]!)![1]!;
    const topic = /--topic[= ](\S+)/.exec(commands[0]!)![1]!;
    expect(read('libs/contracts/src/catalog.ts')).toContain(`'${event}': event({`);
    expect(read('libs/contracts/src/topology.ts')).toContain(`name: '${topic}'`);
    expect(read('docs/asyncapi.yaml')).toContain(`name: ${event}`);
    // ...and the integration run went through the real broker and passed.
    const integration = outputs.find(({ command }) => command.includes('int-test'))!.output;
    expect(integration).toMatch(/Tests:\s+\d+ passed, \d+ total/);
    expect(integration).not.toMatch(/\d+ failed/);
    // The original workspace is untouched.
    expect(readFileSync(join(root, 'libs/contracts/src/catalog.ts'), 'utf8')).not.toContain(`'${event}'`);
  }, 240_000);

  it('generates code that type-checks and passes lint', () => {
    // Every TypeScript file the generator reported as created or updated.
    const generated = [...generatorOutput.matchAll(/^(?:CREATE|UPDATE) (\S+\.ts)$/gm)].map((match) => match[1]!);
    expect(generated).toEqual(expect.arrayContaining([expect.stringMatching(/\.consumer\.ts$/), expect.stringMatching(/\.int-spec\.ts$/), expect.stringMatching(/catalog\.ts$/)]));
    writeFileSync(join(copy, 'tsconfig.walkthrough.json'), JSON.stringify({ extends: './tsconfig.json', include: [], files: [...generated, 'libs/contracts/src/index.ts'] }));
    run('node_modules/.bin/tsc -p tsconfig.walkthrough.json');
    run(`node_modules/.bin/eslint ${generated.join(' ')} libs/contracts/src`);
  }, 120_000);

  it('leaves the broker bootstrap to pick up the new topic from the contracts (no list to maintain)', () => {
    // brokerTopology() is what tools/rocketmq and the integration setup create; here, of the original workspace.
    const topic = /--topic[= ](\S+)/.exec(commands[0]!)![1]!;
    const inCopy = run(`node --conditions=@aip/source --input-type=module -e "import { brokerTopology } from '@aip/contracts'; console.log(JSON.stringify(brokerTopology().topics.map((t) => t.name)))"`);
    expect(brokerTopology().topics.map((t) => t.name)).not.toContain(topic);
    expect(JSON.parse(inCopy)).toContain(topic);
  });
});
