import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '.runtime', '.nx', 'coverage'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: true,
          allow: [],
          depConstraints: [
            // The contracts are the one thing everything shares: they depend on nothing of ours.
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'], allowedExternalImports: ['zod'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:contracts', 'type:lib'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts', 'type:lib', 'type:tool'] },
            // Tools may build on each other (the deploy scripts take the broker tool's ACL settings).
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:contracts', 'type:lib', 'type:tool'] },
            // End-to-end tests start apps as processes; they import only test helpers and tools.
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:testing', 'type:tool', 'type:contracts'] },
            // Apps never import apps; they share code through libs.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:contracts', 'type:lib', 'type:testing'] },
          ],
        },
      ],
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
    // Specs and config modules may read the environment; test files may use dev dependencies.
    files: ['**/*.config.ts', '**/*.spec.ts', '**/*.int-spec.ts', 'libs/testing/**/*.ts', 'tests/**/*.ts', 'tools/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off', '@nx/enforce-module-boundaries': ['error', { allow: ['yaml'], depConstraints: [{ sourceTag: '*', onlyDependOnLibsWithTags: ['*'] }] }] },
  },
];
