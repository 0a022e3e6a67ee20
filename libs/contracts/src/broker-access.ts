import { EVENTS, type EventType } from './catalog.ts';
import { assertNamespace, namespaced } from './namespace.ts';
import { CONSUMER_GROUPS, laneGroup, TOPICS, type ConsumerGroupKey } from './topology.ts';

/** The platform's services, each with a broker user of its own when access control is on. */
export const SERVICES = ['access', 'rate-limiter', 'inference', 'knowledge-ingest', 'intent-scheduler', 'rtc-push'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Systems outside the platform that may publish: `cdc` sends change-data-capture events to `kb-change`. */
export type ExternalPublisher = 'cdc';
export type BrokerUser = ServiceName | ExternalPublisher;

/**
 * Who publishes each event. With access control on, the broker lets only these users publish to
 * the event's topic: a client on the broker cannot skip the limiter (`ai-inference` takes only
 * what the limiter's admission script admitted, from the limiter or access's fast path) or send users a push (`rtc-push` is the intent-scheduler's alone).
 */
export const EVENT_PUBLISHERS: Readonly<Partial<Record<EventType, readonly string[]>>> = {
  // Chat requests come in through both edges: the HTTP API and the realtime socket.
  'ai.request.submitted': ['access', 'rtc-push'],
  // The limiter, and the edges' fast path on the limiter's own script and terms (ADR 0025).
  'ai.request.admitted': ['rate-limiter', 'access', 'rtc-push'],
  'ai.request.rejected': ['rate-limiter'],
  'ai.inference.started': ['inference'],
  'ai.inference.completed': ['inference'],
  // The limiter fails a request it gave up on (its last attempt).
  'ai.inference.failed': ['inference', 'rate-limiter'],
  'ai.inference.cancelled': ['inference'],
  // The limiter alone reserves spend (the edges hand budgeted requests to it).
  'ai.budget.threshold': ['rate-limiter'],
  'kb.change.upsert': ['knowledge-ingest', 'cdc'],
  'kb.change.delete': ['knowledge-ingest', 'cdc'],
  'kb.document.indexed': ['knowledge-ingest'],
  'kb.document.deleted': ['knowledge-ingest'],
  'kb.document.failed': ['knowledge-ingest'],
  'rtc.push.proactive': ['intent-scheduler'],
  'rtc.push.notice': ['intent-scheduler'],
  // Profiles are written through access's API only.
  'user.profile.updated': ['access'],
  'user.profile.deleted': ['access'],
  'conversation.deleted': ['access'],
  'config.policy.changed': ['access'],
  'config.words.changed': ['access'],
  'config.routing.changed': ['access'],
  'config.intents.changed': ['access'],
};

/**
 * The service that consumes with each group. A group not listed (one added with the consumer
 * generator) belongs to the broker user named like the group; an event not in
 * `EVENT_PUBLISHERS` has no publisher until it is added there.
 */
export const GROUP_OWNERS: Readonly<Partial<Record<ConsumerGroupKey, string>>> = {
  rateLimiter: 'rate-limiter',
  inference: 'inference',
  knowledgeIngest: 'knowledge-ingest',
  intentScheduler: 'intent-scheduler',
  rtcPush: 'rtc-push',
  usageLedger: 'access',
};

/** What one broker user may do: publish to some topics, consume some topics with some groups. */
export interface BrokerRights {
  readonly user: BrokerUser | string;
  readonly publish: readonly string[];
  readonly subscribe: { readonly topics: readonly string[]; readonly groups: readonly string[] };
}

/**
 * Every broker user's rights, derived from the catalogue: a user publishes to the topics of the
 * events it publishes (`EVENT_PUBLISHERS`), and consumes the topics of the events its groups
 * consume (`EventSpec.consumers`), with those groups and their lanes. Nothing else is allowed.
 * In a namespace, the topics and groups are the namespace's (`namespaced`); users keep their names.
 */
export function brokerRights(namespace = ''): BrokerRights[] {
  assertNamespace(namespace);
  const inNamespace = (name: string) => namespaced(namespace, name);
  const ownerOf = (key: ConsumerGroupKey) => GROUP_OWNERS[key] ?? CONSUMER_GROUPS[key].name;
  const users = [...new Set<string>([...SERVICES, 'cdc', ...(Object.keys(CONSUMER_GROUPS) as ConsumerGroupKey[]).map(ownerOf)])];
  return users.map((user) => {
    const publish = new Set<string>();
    const topics = new Set<string>();
    const groups = new Set<string>();
    for (const [type, spec] of Object.entries(EVENTS) as [EventType, (typeof EVENTS)[EventType]][]) {
      if (EVENT_PUBLISHERS[type]?.includes(user)) publish.add(inNamespace(TOPICS[spec.topic].name));
      for (const consumer of spec.consumers) {
        if (ownerOf(consumer) !== user) continue;
        topics.add(inNamespace(TOPICS[spec.topic].name));
        const group: { name: string; lanes?: number } = CONSUMER_GROUPS[consumer];
        groups.add(inNamespace(group.name));
        for (let lane = 0; lane < (group.lanes ?? 0); lane++) groups.add(inNamespace(laneGroup(group.name, lane)));
      }
    }
    return { user, publish: [...publish].sort(), subscribe: { topics: [...topics].sort(), groups: [...groups].sort() } };
  });
}

/**
 * The topic whose route an app's readiness probe asks for: one its broker user has a right to, so
 * the probe also passes with access control on (a topic of the service's own). Unknown names (a
 * test's own source) get the lifecycle topic. The name of the contracts: the probe puts it in the
 * app's namespace.
 */
export function probeTopic(source: string): string {
  const rights = brokerRights().find((candidate) => candidate.user === source);
  return rights?.publish[0] ?? rights?.subscribe.topics[0] ?? TOPICS.aiLifecycle.name;
}
