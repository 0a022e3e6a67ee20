import { brokerRights } from './broker-access.ts';
import { EVENTS } from './catalog.ts';
import { assertNamespace, MAX_NAMESPACE_LENGTH, namespaced, namespaceProblem } from './namespace.ts';
import { brokerTopology, CONSUMER_GROUPS, laneGroup, TOPICS } from './topology.ts';

// RocketMQ 5.5 (TopicValidator): topics ≤ 127 characters, groups ≤ 120, retry and dead-letter topics ≤ 255.
const TOPIC_MAX = 127;
const GROUP_MAX = 120;
const SYSTEM_TOPIC_MAX = 255;

describe('namespaced', () => {
  it('leaves names alone without a namespace and prefixes them with one', () => {
    expect(namespaced('', TOPICS.aiRequest.name)).toBe('ai-request');
    expect(namespaced(undefined, CONSUMER_GROUPS.rtcPush.name)).toBe('rtc-push');
    expect(namespaced('it-k3x9-1', TOPICS.aiRequest.name)).toBe('it-k3x9-1_ai-request');
  });

  it('commutes with lanes: the lane of a namespaced group is the namespaced lane', () => {
    expect(laneGroup(namespaced('acme', 'inference'), 7)).toBe(namespaced('acme', laneGroup('inference', 7)));
  });

  it('accepts letters, digits, - and _ up to the limit, and nothing else', () => {
    for (const fine of ['', 'acme', 'it-k3x9-12', 'Tenant_7', 'a'.repeat(MAX_NAMESPACE_LENGTH)]) expect({ fine, problem: namespaceProblem(fine) }).toEqual({ fine, problem: undefined });
    for (const bad of ['a.b', 'a%b', 'a|b', 'a b', 'ü', 'a/b', 'a'.repeat(MAX_NAMESPACE_LENGTH + 1)]) expect({ bad, problem: namespaceProblem(bad) }).toEqual({ bad, problem: expect.any(String) });
    expect(() => assertNamespace('a.b')).toThrow(/broker namespace "a.b": letters, digits/);
  });

  it('keeps every topic, group, retry and dead-letter name of the contracts within the broker limits at the longest namespace', () => {
    const longest = 'n'.repeat(MAX_NAMESPACE_LENGTH);
    const { topics, groups } = brokerTopology(longest);
    const tooLong = (names: string[], max: number) => names.filter((name) => name.length > max);
    expect(tooLong(topics.map((topic) => topic.name), TOPIC_MAX)).toEqual([]);
    expect(tooLong(groups.map((group) => group.name), GROUP_MAX)).toEqual([]);
    expect(tooLong(groups.map((group) => `%DLQ%${group.name}`), SYSTEM_TOPIC_MAX)).toEqual([]);
    // Pop retries go to %RETRY%<group>_<topic> (or +<topic>): every group (and lane) with every topic it consumes.
    const retries = Object.values(EVENTS).flatMap((event) =>
      event.consumers.flatMap((key) => {
        const group: { name: string; lanes?: number } = CONSUMER_GROUPS[key];
        const names = [group.name, ...Array.from({ length: group.lanes ?? 0 }, (_, lane) => laneGroup(group.name, lane))];
        return names.map((name) => `%RETRY%${namespaced(longest, name)}_${namespaced(longest, TOPICS[event.topic].name)}`);
      }),
    );
    expect(retries.length).toBeGreaterThan(0);
    expect(tooLong(retries, SYSTEM_TOPIC_MAX)).toEqual([]);
  });
});

describe('provisioning in a namespace', () => {
  it('creates the same topology with every topic and group prefixed, settings unchanged', () => {
    const plain = brokerTopology();
    const mine = brokerTopology('run-1');
    expect(mine.topics).toEqual(plain.topics.map((topic) => ({ ...topic, name: `run-1_${topic.name}` })));
    expect(mine.groups).toEqual(plain.groups.map((group) => ({ ...group, name: `run-1_${group.name}` })));
    expect(mine.groups.filter((group) => group.name.startsWith('run-1_inference-lane-'))).toHaveLength(CONSUMER_GROUPS.inference.lanes);
  });

  it("gives each broker user the same rights on the namespace's topics and groups", () => {
    const plain = brokerRights();
    const mine = brokerRights('run-1');
    const prefixed = (names: readonly string[]) => names.map((name) => `run-1_${name}`);
    expect(mine).toEqual(plain.map(({ user, publish, subscribe }) => ({ user, publish: prefixed(publish), subscribe: { topics: prefixed(subscribe.topics), groups: prefixed(subscribe.groups) } })));
  });

  it('refuses a namespace the broker could not take', () => {
    expect(() => brokerTopology('a.b')).toThrow(RangeError);
    expect(() => brokerRights('x'.repeat(MAX_NAMESPACE_LENGTH + 1))).toThrow(RangeError);
  });
});
