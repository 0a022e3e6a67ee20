// Precise edits of TypeScript sources: parse with the TypeScript compiler, find the node, splice
// text at its position. Everything else in the file (comments, layout) stays as the author wrote it.
import ts from 'typescript';

export class SourceEditError extends Error {
  readonly file: string;

  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'SourceEditError';
    this.file = file;
  }
}

export function parse(file: string, text: string): ts.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

/** Strips `as const`, `satisfies X` and parentheses around an expression. */
export function unwrap(node: ts.Expression): ts.Expression {
  let current = node;
  while (ts.isAsExpression(current) || ts.isSatisfiesExpression(current) || ts.isParenthesizedExpression(current)) current = current.expression;
  return current;
}

/** The object literal assigned to a top-level `const NAME = {...}` (through `as const` / `satisfies`). */
export function constObject(source: ts.SourceFile, name: string): ts.ObjectLiteralExpression {
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      if (ts.isIdentifier(declaration.name) && declaration.name.text === name && declaration.initializer) {
        const value = unwrap(declaration.initializer);
        if (ts.isObjectLiteralExpression(value)) return value;
      }
    }
  }
  throw new SourceEditError(source.fileName, `no \`const ${name} = { ... }\` object found`);
}

export function propertyName(property: ts.ObjectLiteralElementLike): string | undefined {
  const name = property.name;
  if (!name) return undefined;
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name)) return name.text;
  return undefined;
}

/** Top-level properties of an object literal whose value is an object literal or a call, keyed by name. */
export function properties(object: ts.ObjectLiteralExpression): Map<string, ts.Expression> {
  const out = new Map<string, ts.Expression>();
  for (const property of object.properties) {
    const name = propertyName(property);
    if (name !== undefined && ts.isPropertyAssignment(property)) out.set(name, property.initializer);
  }
  return out;
}

/** A string-literal property of an object literal (`{ name: 'x' }` → 'x'). */
export function stringProperty(object: ts.Expression, name: string): string | undefined {
  const value = unwrap(object);
  if (!ts.isObjectLiteralExpression(value)) return undefined;
  const found = properties(value).get(name);
  return found && (ts.isStringLiteral(found) || ts.isNoSubstitutionTemplateLiteral(found)) ? found.text : undefined;
}

export function booleanProperty(object: ts.Expression, name: string): boolean | undefined {
  const value = unwrap(object);
  if (!ts.isObjectLiteralExpression(value)) return undefined;
  const found = properties(value).get(name);
  if (found?.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (found?.kind === ts.SyntaxKind.FalseKeyword) return false;
  return undefined;
}

interface Splice {
  at: number;
  text: string;
}

export function applySplices(text: string, splices: Splice[]): string {
  // Right to left, so earlier positions stay valid; at one position, the first listed ends up first.
  return splices
    .map((splice, index) => ({ ...splice, index }))
    .sort((a, b) => b.at - a.at || b.index - a.index)
    .reduce((out, { at, text: insert }) => out.slice(0, at) + insert + out.slice(at), text);
}

/** The indentation of the line `position` is on. */
function indentAt(text: string, position: number): string {
  const lineStart = text.lastIndexOf('\n', position - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? '';
}

/**
 * Appends `entry` (one or more lines, unindented) as the last element of a multi-line object or
 * array literal, keeping the trailing-comma style of its siblings.
 */
export function appendElement(text: string, list: ts.ObjectLiteralExpression | ts.ArrayLiteralExpression, entry: string): Splice[] {
  const elements = ts.isObjectLiteralExpression(list) ? list.properties : list.elements;
  const last = elements.at(-1);
  const multiline = text.slice(list.getStart(), list.getEnd()).includes('\n');
  if (!last) {
    const open = list.getStart() + 1;
    return multiline ? [{ at: open, text: `\n${indentAt(text, list.getStart())}  ${entry}` }] : [{ at: open, text: entry }];
  }
  const trailingComma = elements.hasTrailingComma;
  if (!multiline) return [{ at: last.getEnd(), text: `, ${entry}` }];
  const indent = indentAt(text, last.getStart());
  const body = entry.split('\n').map((line, i) => (i === 0 ? line : `${indent}${line}`)).join('\n');
  if (trailingComma) {
    const comma = text.indexOf(',', last.getEnd());
    return [{ at: comma + 1, text: `\n${indent}${body},` }];
  }
  return [{ at: last.getEnd(), text: `,\n${indent}${body}` }];
}

/** Adds `names` to the import from `module` (creating the import after the last one if needed). */
export function addNamedImports(text: string, source: ts.SourceFile, module: string, names: string[], typeOnly = false, near?: (module: string) => boolean): Splice[] {
  const imports = source.statements.filter(ts.isImportDeclaration);
  const existing = imports.find(
    (declaration) =>
      ts.isStringLiteral(declaration.moduleSpecifier) &&
      declaration.moduleSpecifier.text === module &&
      Boolean(declaration.importClause?.isTypeOnly) === typeOnly &&
      declaration.importClause?.namedBindings &&
      ts.isNamedImports(declaration.importClause.namedBindings),
  );
  if (existing) {
    const bindings = existing.importClause?.namedBindings as ts.NamedImports;
    const have = new Set(bindings.elements.map((element) => element.name.text));
    const missing = names.filter((name) => !have.has(name));
    if (missing.length === 0) return [];
    const last = bindings.elements.at(-1);
    return last ? [{ at: last.getEnd(), text: `, ${missing.join(', ')}` }] : [{ at: bindings.getStart() + 1, text: ` ${missing.join(', ')} ` }];
  }
  const line = `import ${typeOnly ? 'type ' : ''}{ ${names.join(', ')} } from '${module}';`;
  const related = near ? imports.filter((declaration) => ts.isStringLiteral(declaration.moduleSpecifier) && near(declaration.moduleSpecifier.text)) : [];
  const after = related.at(-1) ?? imports.at(-1);
  return after ? [{ at: after.getEnd(), text: `\n${line}` }] : [{ at: 0, text: `${line}\n` }];
}

/** Every object literal in the file that has an array-valued property `name` (e.g. `controllers: [...]`). */
export function objectsWithArrayProperty(source: ts.SourceFile, name: string): { object: ts.ObjectLiteralExpression; array: ts.ArrayLiteralExpression }[] {
  const found: { object: ts.ObjectLiteralExpression; array: ts.ArrayLiteralExpression }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isObjectLiteralExpression(node)) {
      const value = properties(node).get(name);
      if (value && ts.isArrayLiteralExpression(value)) found.push({ object: node, array: value });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * The consumer group an app's consumers join: the `group` of the `consumers: { ... }` settings it
 * starts with (`startPlatformApp`, ADR 0020) — a string, or `CONSUMER_GROUPS.<key>.name` resolved
 * through `groups` (the contracts' topology) — if it has any.
 */
export function consumerGroup(source: ts.SourceFile, groups: readonly { key: string; name: string }[]): string | undefined {
  let group: string | undefined;
  const visit = (node: ts.Node): void => {
    if (group === undefined && ts.isObjectLiteralExpression(node)) {
      const consumers = properties(node).get('consumers');
      const value = consumers && unwrap(consumers);
      const expression = value && ts.isObjectLiteralExpression(value) ? properties(value).get('group') : undefined;
      if (expression) group = groupNamed(expression, groups);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return group;
}

function groupNamed(expression: ts.Expression, groups: readonly { key: string; name: string }[]): string | undefined {
  if (ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression)) return expression.text;
  const key = /CONSUMER_GROUPS\.(\w+)\.name/.exec(expression.getText())?.[1];
  return groups.find((group) => group.key === key)?.name;
}

/** Names exported by `export const` in a file. */
export function exportedConsts(source: ts.SourceFile): string[] {
  return source.statements
    .filter(ts.isVariableStatement)
    .filter((statement) => statement.modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword))
    .flatMap((statement) => statement.declarationList.declarations.map((declaration) => declaration.name.getText()));
}
