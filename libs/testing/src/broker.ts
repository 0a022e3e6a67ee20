import { assertNamespace, brokerTopology } from '@aip/contracts';
import { createGroups, createTopics, HEALTH_TOPIC, masterBrokers, proxyReady, type GroupSpec, type TopicSpec } from '@aip/rocketmq-local';
import { dlqList, type DlqEntry } from '@aip/rocketmq-local/dlq';
import { eventually } from './waiting.ts';

/**
 * Where integration suites get their broker, in this order: `ROCKETMQ_ENDPOINTS` if set (an
 * existing proxy; `ROCKETMQ_NAMESRV` lets the setup create topics there); containers when a Docker
 * engine answers (unless `AIP_TEST_CONTAINERS=0`); otherwise the local broker from Maven Central.
 */
export type BrokerChoice =
  | { kind: 'external'; endpoints: string; namesrv: string; reason: string }
  | { kind: 'containers'; reason: string }
  | { kind: 'local'; reason: string };

export interface BrokerSelectionEnv {
  ROCKETMQ_ENDPOINTS?: string | undefined;
  ROCKETMQ_NAMESRV?: string | undefined;
  AIP_TEST_CONTAINERS?: string | undefined;
}

/** `docker` is only asked for when the environment does not decide (no engine probe otherwise). */
export async function chooseBroker(env: BrokerSelectionEnv, docker: () => Promise<{ available: boolean; reason: string }>): Promise<BrokerChoice> {
  const endpoints = env.ROCKETMQ_ENDPOINTS?.trim();
  if (endpoints) {
    const namesrv = env.ROCKETMQ_NAMESRV?.trim() ?? '';
    return { kind: 'external', endpoints, namesrv, reason: `ROCKETMQ_ENDPOINTS=${endpoints}${namesrv ? `, ROCKETMQ_NAMESRV=${namesrv}` : ' (no ROCKETMQ_NAMESRV: topics are not created)'}` };
  }
  if (env.AIP_TEST_CONTAINERS === '0') return { kind: 'local', reason: 'containers disabled by AIP_TEST_CONTAINERS=0' };
  const engine = await docker();
  return engine.available ? { kind: 'containers', reason: `Docker ${engine.reason}` } : { kind: 'local', reason: `container path skipped: ${engine.reason}` };
}

export function describeChoice(choice: BrokerChoice): string {
  const what = { external: 'external broker', containers: 'containers (apache/rocketmq + redis, testcontainers)', local: 'local broker from Maven Central (libs/rocketmq-local)' }[choice.kind];
  return `broker: ${what} — ${choice.reason}`;
}

/** Waits until a freshly started broker is registered at its name server and routes through the proxy. */
export async function awaitBrokerReady(namesrv: string, brokerAddr: string, endpoints: string, timeoutMs = 120_000): Promise<void> {
  await eventually(async () => (await masterBrokers(namesrv).catch((): string[] => [])).includes(brokerAddr), `broker ${brokerAddr} registered at ${namesrv}`, timeoutMs);
  await createTopics([{ name: HEALTH_TOPIC, messageType: 'NORMAL' }], { namesrv });
  await eventually(() => proxyReady(endpoints).catch(() => false), `the proxy at ${endpoints} to route ${HEALTH_TOPIC}`, timeoutMs);
}

/**
 * The broker the integration tests talk to: set by the global setup (or by the environment). With a
 * namespace, publishers and servers on this connection use that namespace's topics and groups.
 */
export function testConnection(namespace?: string): { endpoints: string; requestTimeoutMs: number; namespace?: string } {
  return { endpoints: process.env['ROCKETMQ_ENDPOINTS'] ?? '127.0.0.1:8081', requestTimeoutMs: 3_000, ...(namespace ? { namespace } : {}) };
}

const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let counter = 0;

/** A name no other test run uses: tests never share topics, groups or keys. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${runId}-${++counter}`;
}

/**
 * A broker namespace no other test run uses (`ROCKETMQ_NAMESPACE`, `testConnection(namespace)`):
 * with `provisionNamespace`, a suite runs the apps on topics and groups of its own.
 */
export function uniqueNamespace(prefix: string): string {
  return assertNamespace(uniqueName(prefix));
}

/** Creates topics and consumer groups for one test file (one admin round trip each). */
export async function provisionBroker(topics: TopicSpec[], groups: GroupSpec[] = []): Promise<void> {
  if (topics.length > 0) await createTopics(topics);
  if (groups.length > 0) await createGroups(groups);
}

/**
 * Creates the whole topology of the contracts in `namespace` — every topic and consumer group, lane
 * groups included, with the contracts' settings (`brokerTopology(namespace)`) — in one call. Apps
 * started with ROCKETMQ_NAMESPACE=namespace then consume and publish there, and nowhere else.
 */
export async function provisionNamespace(namespace: string): Promise<void> {
  const { topics, groups } = brokerTopology(namespace);
  await provisionBroker([...topics], [...groups]);
}

/**
 * Waits until the group's dead-letter topic holds `expected` messages and returns them (read without
 * consuming). `group` is the broker's name: in a namespace, `namespaced(namespace, group)`.
 */
export async function deadLetters(group: string, expected: number, timeoutMs = 60_000): Promise<DlqEntry[]> {
  let entries: DlqEntry[] = [];
  await eventually(async () => {
    entries = await dlqList(group).catch(() => []);
    return entries.length >= expected;
  }, `${expected} message(s) in %DLQ%${group}`, timeoutMs);
  return entries;
}
