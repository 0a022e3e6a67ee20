// Broker namespaces: one prefix in front of every topic and consumer group name the platform uses,
// so several platforms (test runs, tenants of a shared broker) live on one broker without seeing
// each other's messages. Everything else — tags, keys, message groups, lanes — is unchanged. The
// transport and every provisioning path call `namespaced`; no other code builds prefixed names
// (ADR 0021). The RocketMQ client's own `namespace` parameter is not used: the 5.x proxy ignores it.

/** Between the namespace and the name: `acme_ai-request`. */
export const NAMESPACE_SEPARATOR = '_';

/** Letters, digits, '-' and '_' (all characters RocketMQ takes in a name, without its reserved '%' and '|'). */
export const NAMESPACE_PATTERN = /^[A-Za-z0-9_-]*$/;

/**
 * Longest namespace. RocketMQ 5.5 refuses topics over 127 characters and consumer groups over 120
 * (`TopicValidator`); its retry and dead-letter topics (`%RETRY%<group>_<topic>`, `%DLQ%<group>`)
 * take up to 255, which a group ≤ 120 and a topic ≤ 127 never exceed. 32 characters leave every
 * name of the contracts well within those limits (checked in contracts.spec.ts).
 */
export const MAX_NAMESPACE_LENGTH = 32;

/** What is wrong with a namespace, or undefined when it is fine ('' = no namespace). */
export function namespaceProblem(namespace: string): string | undefined {
  if (namespace.length > MAX_NAMESPACE_LENGTH) return `at most ${MAX_NAMESPACE_LENGTH} characters (the broker's topic and group names are limited)`;
  if (!NAMESPACE_PATTERN.test(namespace)) return "letters, digits, '-' and '_' only";
  return undefined;
}

/** Throws a RangeError naming the problem when `namespace` is not one. */
export function assertNamespace(namespace: string): string {
  const problem = namespaceProblem(namespace);
  if (problem) throw new RangeError(`broker namespace ${JSON.stringify(namespace)}: ${problem}`);
  return namespace;
}

/**
 * The broker's name of a topic or consumer group of the contracts in a namespace: the name itself
 * without one, `<namespace>_<name>` with one. Lane groups commute:
 * `laneGroup(namespaced(ns, g), n) === namespaced(ns, laneGroup(g, n))`.
 */
export function namespaced(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}${NAMESPACE_SEPARATOR}${name}` : name;
}
