// Registers the generated consumer (a controller) and its service (a provider) in the app's module:
// the object literal that has `controllers: [...]` — in `@Module({...})` or in a `register()`
// that returns a DynamicModule — gets both, and the file imports them.
import ts from 'typescript';
import type { ConsumerPlan } from './plan.ts';
import { addNamedImports, appendElement, applySplices, objectsWithArrayProperty, parse, properties, SourceEditError } from './source-edit.ts';

export function registerInModule(text: string, plan: ConsumerPlan, file: string): string {
  const source = parse(file, text);
  const candidates = objectsWithArrayProperty(source, 'controllers');
  const [only, ...others] = candidates;
  if (!only) throw new SourceEditError(file, 'no module metadata with `controllers: [...]` found; register the consumer by hand');
  if (others.length > 0) throw new SourceEditError(file, 'more than one `controllers: [...]` found; register the consumer by hand');
  const { object, array } = only;
  const consumer = `${plan.className}Consumer`;
  const service = `${plan.className}Service`;
  const providers = properties(object).get('providers');
  const splices = [
    ...addNamedImports(text, source, `./${plan.domain}/${plan.feature}.consumer.ts`, [consumer]),
    ...addNamedImports(text, source, `./${plan.domain}/${plan.feature}.service.ts`, [service]),
    ...appendElement(text, array, consumer),
  ];
  if (providers && ts.isArrayLiteralExpression(providers)) {
    splices.push(...appendElement(text, providers, service));
  } else if (providers) {
    throw new SourceEditError(file, '`providers` is not an array literal; add the service by hand');
  } else {
    splices.push(...appendElement(text, object, `providers: [${service}]`));
  }
  return applySplices(text, splices);
}

/** Adds the test targets (and their Jest configs) an app needs to run the generated specs. */
export function withTestTargets(packageJson: Record<string, unknown>): Record<string, unknown> {
  const nx = (packageJson['nx'] ?? {}) as Record<string, unknown>;
  const targets = { ...((nx['targets'] ?? {}) as Record<string, unknown>) };
  targets['test'] ??= {};
  targets['int-test'] ??= {};
  return { ...packageJson, nx: { ...nx, targets } };
}

/** Workspace packages the generated files import, added to the app's dependencies when missing. */
export function withDependencies(packageJson: Record<string, unknown>, names: string[]): Record<string, unknown> {
  const dependencies = { ...((packageJson['dependencies'] ?? {}) as Record<string, string>) };
  for (const name of names) dependencies[name] ??= '*';
  return { ...packageJson, dependencies };
}

export const JEST_CONFIG = `import { jestConfig } from '../../jest.preset.mjs';\n\nexport default jestConfig(import.meta.dirname);\n`;
export const JEST_INT_CONFIG = `import { jestConfig } from '../../jest.preset.mjs';\n\nexport default jestConfig(import.meta.dirname, 'int');\n`;
