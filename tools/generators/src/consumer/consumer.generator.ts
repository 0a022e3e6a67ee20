// nx g @aip/generators:consumer — declares an event in libs/contracts and scaffolds its handler,
// unit spec and integration spec in an app. Loaded by Nx straight from this TypeScript source
// (Node 24 strips the types; see README.md), so it has no build step.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { logger, readJson, writeJson, type GeneratorCallback, type Tree } from '@nx/devkit';
import { JEST_CONFIG, JEST_INT_CONFIG, registerInModule, withDependencies, withTestTargets } from './app-edits.ts';
import { addEvent, addGroup, addSchemaExport, addTopic, schemaFile } from './contract-edits.ts';
import { planConsumer, readCatalog, readTopology, type ConsumerGeneratorOptions, type ConsumerPlan } from './plan.ts';
import { consumerGroup, parse } from './source-edit.ts';
import { consumerFile, intSpecFile, serviceFile, unitSpecFile } from './templates.ts';

const CONTRACTS = 'libs/contracts/src';

function read(tree: Tree, path: string): string {
  const text = tree.read(path, 'utf-8');
  if (text === null) throw new Error(`${path} is missing: is this the platform's workspace root?`);
  return text;
}

function update(tree: Tree, path: string, edit: (text: string) => string): void {
  const before = read(tree, path);
  const after = edit(before);
  if (after !== before) tree.write(path, after);
}

/** Reads what the plan depends on from the tree (which is the workspace plus pending changes). */
export function planFromTree(tree: Tree, options: ConsumerGeneratorOptions): ConsumerPlan {
  const apps = tree.exists('apps') ? tree.children('apps').filter((app) => tree.exists(`apps/${app}/package.json`)) : [];
  const topology = readTopology(read(tree, `${CONTRACTS}/topology.ts`));
  return planConsumer(options, {
    topology,
    catalog: readCatalog(read(tree, `${CONTRACTS}/catalog.ts`)),
    apps,
    // Where an app says how it starts: main.ts, or app.options.ts when its tests start it in-process.
    serverGroup: (app) =>
      ['main.ts', 'app.options.ts']
        .map((file) => tree.read(`apps/${app}/src/${file}`, 'utf-8'))
        .map((text) => (text === null ? undefined : consumerGroup(parse('app.ts', text), topology.groups)))
        .find((group) => group !== undefined),
    exists: (path) => tree.exists(path),
  });
}

export function applyPlan(tree: Tree, plan: ConsumerPlan): void {
  // Contracts: schema, catalog entry, topology (new topic / group).
  const schemaPath = `${CONTRACTS}/events/${plan.domain}.schema.ts`;
  tree.write(schemaPath, schemaFile(tree.read(schemaPath, 'utf-8') ?? undefined, plan));
  update(tree, `${CONTRACTS}/schemas.ts`, (text) => addSchemaExport(text, plan));
  update(tree, `${CONTRACTS}/topology.ts`, (text) => addGroup(addTopic(text, plan), plan));
  update(tree, `${CONTRACTS}/catalog.ts`, (text) => addEvent(text, plan));

  // The app: consumer, service, specs; registered in the module.
  const base = `${plan.dir}/${plan.feature}`;
  tree.write(`${base}.consumer.ts`, consumerFile(plan));
  tree.write(`${base}.service.ts`, serviceFile(plan));
  tree.write(`${base}.consumer.spec.ts`, unitSpecFile(plan));
  tree.write(`${base}.int-spec.ts`, intSpecFile(plan));
  const modulePath = `${plan.app.root}/src/app.module.ts`;
  update(tree, modulePath, (text) => registerInModule(text, plan, modulePath));

  // Test targets: the app may not have had specs before.
  if (!tree.exists(`${plan.app.root}/jest.config.mjs`)) tree.write(`${plan.app.root}/jest.config.mjs`, JEST_CONFIG);
  if (!tree.exists(`${plan.app.root}/jest.int.config.mjs`)) tree.write(`${plan.app.root}/jest.int.config.mjs`, JEST_INT_CONFIG);
  const packagePath = `${plan.app.root}/package.json`;
  writeJson(tree, packagePath, withDependencies(withTestTargets(readJson(tree, packagePath)), ['@aip/contracts', '@aip/messaging']));
}

export default async function consumerGenerator(tree: Tree, options: ConsumerGeneratorOptions): Promise<GeneratorCallback> {
  const plan = planFromTree(tree, options);
  applyPlan(tree, plan);
  logger.info(
    [
      `${plan.event}: topic ${plan.topic.name}${plan.topic.isNew ? ` (new, ${plan.topic.messageType})` : ''}, tag ${plan.tag}, ` +
        `group ${plan.group.name}${plan.group.isNew ? ' (new)' : ''}, handler ${plan.className}Consumer in ${plan.dir}`,
      `next: describe the payload in ${CONTRACTS}/events/${plan.domain}.schema.ts, write ${plan.className}Service.handle,`,
      `      then: npx nx test @aip/${plan.app.dir} && npx nx int-test @aip/${plan.app.dir}`,
    ].join('\n'),
  );
  return () => {
    // After the files are written (never on --dry-run): the same writer as `npm run asyncapi`,
    // so the drift test of libs/contracts passes at once.
    if (options.skipAsyncApi) return;
    execFileSync(process.execPath, ['--conditions=@aip/source', '--no-warnings=ExperimentalWarning', join('tools', 'contracts', 'asyncapi.ts')], {
      cwd: tree.root,
      stdio: 'inherit',
    });
  };
}
