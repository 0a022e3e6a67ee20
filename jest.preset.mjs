// Shared Jest settings. Sources are ESM TypeScript compiled by SWC; NestJS 12 is ESM-only, so
// Jest runs with --experimental-vm-modules (set by the Nx targets). Workspace libraries resolve
// to their TypeScript sources through the "@aip/source" export condition.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const swcrc = JSON.parse(readFileSync(fileURLToPath(new URL('./.swcrc', import.meta.url)), 'utf8'));
delete swcrc.exclude;
delete swcrc.$schema;
// Jest resolves the .ts specifiers itself; only built output needs them rewritten to .js.
swcrc.jsc.rewriteRelativeImportExtensions = false;

/** @param {string} projectDir @param {'unit' | 'int'} kind */
export function jestConfig(projectDir, kind = 'unit') {
  return {
    rootDir: projectDir,
    displayName: `${projectDir.split('/').slice(-2).join('/')}${kind === 'int' ? ' (integration)' : ''}`,
    testEnvironment: 'node',
    testEnvironmentOptions: { customExportConditions: ['@aip/source', 'node', 'node-addons'] },
    extensionsToTreatAsEsm: ['.ts'],
    transform: { '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false, sourceMaps: 'inline', module: { type: 'es6' } }] },
    testMatch: kind === 'int' ? ['<rootDir>/**/*.int-spec.ts'] : ['<rootDir>/**/*.spec.ts'],
    testPathIgnorePatterns: ['/node_modules/', '/dist/'],
    ...(kind === 'int'
      ? {
          globalSetup: fileURLToPath(new URL('./libs/testing/src/global-setup.ts', import.meta.url)),
          globalTeardown: fileURLToPath(new URL('./libs/testing/src/global-teardown.ts', import.meta.url)),
          testTimeout: 120_000,
          // rocketmq-client-nodejs keeps gRPC channels (and timers) alive after shutdown(),
          // so a finished integration run would otherwise never exit.
          forceExit: true,
        }
      : {}),
  };
}
