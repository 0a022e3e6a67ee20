import nx from '@nx/eslint-plugin';

// The layers of the workspace and what each may import (docs/adr/0019-layers-and-module-boundaries.md).
// Every project carries one `type:` tag; a project may import only projects tagged with a layer
// listed for its own. Nothing lists `type:app`, `type:ui`, `type:e2e` or `type:script`: nothing imports them.
const CONTRACTS = 'type:contracts';
const DOMAIN = 'type:domain';
const TRANSPORT = 'type:transport';
const RUNTIME = 'type:runtime';
const APP = 'type:app';
const TESTING = 'type:testing';
const TOOL = 'type:tool';
const SCRIPT = 'type:script';
const E2E = 'type:e2e';
const UI = 'type:ui';

const layers = [
  // The contracts are the one thing everything shares: they depend on nothing of ours, and on zod only.
  { sourceTag: CONTRACTS, onlyDependOnLibsWithTags: [], allowedExternalImports: ['zod'] },
  // Logic and its stores, free of the transport and of Nest: the apps wire it, tools and benchmarks
  // call it without booting anything. The broker client is banned too, so the transport cannot be
  // bypassed.
  {
    sourceTag: DOMAIN,
    onlyDependOnLibsWithTags: [CONTRACTS, DOMAIN],
    bannedExternalImports: ['@nestjs/*', 'rocketmq-client-nodejs', '@grpc/*', 'fastify', '@fastify/*'],
  },
  // The RocketMQ transport knows the contracts, not what the messages mean.
  { sourceTag: TRANSPORT, onlyDependOnLibsWithTags: [CONTRACTS] },
  // What every app shares at start (environment, logger, Redis, health, HTTP guards).
  { sourceTag: RUNTIME, onlyDependOnLibsWithTags: [CONTRACTS, DOMAIN, TRANSPORT] },
  // Apps never import apps, nor test helpers outside their tests.
  { sourceTag: APP, onlyDependOnLibsWithTags: [CONTRACTS, DOMAIN, TRANSPORT, RUNTIME] },
  // The web page runs in the browser: it shares the contracts' frame types (type-only imports, so
  // nothing of zod is bundled) and nothing else of ours; no Node or server package either.
  {
    sourceTag: UI,
    onlyDependOnLibsWithTags: [CONTRACTS],
    bannedExternalImports: ['@nestjs/*', 'rocketmq-client-nodejs', '@grpc/*', 'fastify', '@fastify/*', 'ioredis', 'ws'],
  },
  // Test helpers sit below everything whose tests use them (anything else would be a cycle).
  { sourceTag: TESTING, onlyDependOnLibsWithTags: [CONTRACTS, TOOL] },
  // Packages others import: the local broker, the deployment generators, the Nx generators.
  { sourceTag: TOOL, onlyDependOnLibsWithTags: [CONTRACTS, TOOL] },
  // Entry points run from npm scripts (benchmarks, npm start, the integration runner, kb and model
  // tools): they may use any lib, never an app or an e2e suite.
  { sourceTag: SCRIPT, onlyDependOnLibsWithTags: [CONTRACTS, DOMAIN, TRANSPORT, RUNTIME, TESTING, TOOL] },
  // End-to-end suites start apps as processes; they import only test helpers, tools and contracts.
  { sourceTag: E2E, onlyDependOnLibsWithTags: [CONTRACTS, TESTING, TOOL] },
];

// Specs and test support obey the same layers, and may also import the test helpers; the
// contracts' spec reads the checked-in docs/asyncapi.yaml with `yaml`.
const specLayers = layers.map((layer) => ({
  ...layer,
  onlyDependOnLibsWithTags: [...new Set([...layer.onlyDependOnLibsWithTags, TESTING])],
  ...(layer.sourceTag === CONTRACTS ? { allowedExternalImports: [...layer.allowedExternalImports, 'yaml'] } : {}),
}));

const boundaries = (depConstraints, allow = []) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    banTransitiveDependencies: true,
    allow,
    depConstraints,
    // Nothing here is bundled, so a dynamic import splits no chunk. recovery.bench.ts loads the
    // transport dynamically in its sender child only (the parent runs on sources, the child on the
    // build); the other benchmarks of tools/bench import it statically.
    checkDynamicDependenciesExceptions: ['@aip/messaging'],
  },
];

const SPEC_FILES = ['**/*.spec.ts', '**/*.spec.tsx', '**/*.int-spec.ts', 'apps/*/test/**/*.ts', 'libs/*/test/**/*.ts'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '.runtime', '.nx', 'coverage'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries(layers),
      '@typescript-eslint/no-explicit-any': 'error',
      // No-op loggers and lifecycle methods are deliberate.
      '@typescript-eslint/no-empty-function': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read the environment only in a config module (*.config.ts).' },
      ],
    },
  },
  {
    // Specs, config modules and developer tools (the local broker reads ROCKETMQ_*, JAVA_HOME) may read the environment.
    files: ['**/*.config.ts', '**/*.spec.ts', '**/*.int-spec.ts', 'libs/testing/**/*.ts', 'libs/rocketmq-local/**/*.ts', 'tests/**/*.ts', 'tools/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // `jest` of ESM specs comes from @jest/globals, which ships with the jest devDependency.
    files: SPEC_FILES,
    rules: { '@nx/enforce-module-boundaries': boundaries(specLayers, ['@jest/globals']) },
  },
];
