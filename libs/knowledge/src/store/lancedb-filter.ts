// SQL predicates for LanceDB (DataFusion dialect). Every value that reaches a predicate comes from
// users (tenant, knowledge base, document ids), so it goes through `sqlString`: single quotes are
// doubled, which is the only escape a standard SQL string literal has (backslashes are literal in
// this dialect: checked in lancedb-filter.spec.ts against a real table).
import { KnowledgeStoreError } from './store.errors.ts';

export function sqlString(value: string): string {
  if (typeof value !== 'string') throw new KnowledgeStoreError('invalid_query', `expected a string filter value, got ${typeof value}`);
  // A NUL cannot be stored in a DataFusion literal without truncation risks; no real id needs it.
  if (value.includes('\u0000')) throw new KnowledgeStoreError('invalid_query', 'filter values must not contain NUL characters');
  return `'${value.replaceAll("'", "''")}'`;
}

/** Column reference, quoted so camelCase names are never folded. */
export const col = (name: string) => `\`${name}\``;

export function eq(column: string, value: string): string {
  return `${col(column)} = ${sqlString(value)}`;
}

export function inList(column: string, values: Iterable<string>): string {
  const literals = [...new Set(values)].map(sqlString);
  return literals.length === 0 ? 'false' : `${col(column)} IN (${literals.join(', ')})`;
}

export function and(...parts: (string | undefined)[]): string {
  return parts.filter((p): p is string => Boolean(p)).map((p) => `(${p})`).join(' AND ');
}

/** Tenant + knowledge bases (+ optional docId → version pairs): the prefilter of every read. */
export function scopePredicate(scope: { tenantId: string; kbIds: readonly string[]; versions?: ReadonlyMap<string, string>; docId?: string }): string {
  const versions = scope.versions ? [...scope.versions].map(([docId, version]) => `(${eq('docId', docId)} AND ${eq('version', version)})`).join(' OR ') || 'false' : undefined;
  return and(eq('tenantId', scope.tenantId), inList('kbId', scope.kbIds), scope.docId === undefined ? undefined : eq('docId', scope.docId), versions);
}
