// The broker topology of the platform, declared once as data. The broker bootstrap
// (tools/rocketmq) creates exactly these topics and groups; the transport reads message types
// and group settings from here. RocketMQ topic names allow only letters, digits, '-', '_', '%'
// and '|': no dots. A broker namespace (namespace.ts) prefixes every topic and group name.

import { assertNamespace, namespaced } from './namespace.ts';

export type MessageType = 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION';

export interface TopicSpec {
  readonly name: string;
  readonly messageType: MessageType;
  /**
   * Fewest queues the topic gets (more when ROCKETMQ_TOPIC_QUEUES asks for more). A FIFO topic's
   * queue is held while a batch of its messages is unacknowledged, so its queues bound how many
   * batches are consumed at once.
   */
  readonly queues?: number;
  readonly description: string;
}

export interface ConsumerGroupSpec {
  readonly name: string;
  /** FIFO consumption: messages of one message group are delivered one at a time, in order. */
  readonly orderly: boolean;
  /** Delivery attempts before the broker moves a message to `%DLQ%<group>`. */
  readonly maxAttempts: number;
  /**
   * Routing lanes: this many extra groups `<name>-lane-NN`, created with the group, through which a
   * publisher sends a message to the one instance that holds the lane (see `laneGroup`).
   */
  readonly lanes?: number;
  readonly description: string;
}

export const TOPICS = {
  aiRequest: { name: 'ai-request', messageType: 'NORMAL', description: 'Requests submitted by clients, waiting for admission.' },
  aiInference: { name: 'ai-inference', messageType: 'NORMAL', description: 'Admitted requests, pulled by inference workers with free slots.' },
  aiLifecycle: { name: 'ai-lifecycle', messageType: 'NORMAL', description: 'Request lifecycle: rejected, started, completed, failed, cancelled.' },
  kbChange: { name: 'kb-change', messageType: 'FIFO', description: 'Knowledge base changes (uploads and change-data-capture); message group = kbId:docId.' },
  kbLifecycle: { name: 'kb-lifecycle', messageType: 'NORMAL', description: 'Knowledge document lifecycle: indexed, deleted, failed.' },
  // 16 queues: at 1,000 pushes/s the 4 of other topics held consumption to ~1,000/s with seconds of backlog (bench:rtc, ADR 0007).
  rtcPush: { name: 'rtc-push', messageType: 'FIFO', queues: 16, description: 'The central topic of proactive prompts and notices; message group = user id.' },
  userProfile: { name: 'user-profile', messageType: 'FIFO', description: 'End-user data changes: profiles (updated, deleted) and conversations (deleted); message group = user id, so the changes of one user stay in order.' },
  configChange: { name: 'config-change', messageType: 'NORMAL', description: 'Audit trail of run-time document changes; instances apply documents by polling Redis (ADR 0020).' },
} as const satisfies Record<string, TopicSpec>;

export type TopicKey = keyof typeof TOPICS;
export type TopicName = (typeof TOPICS)[TopicKey]['name'];

const DEFAULT_MAX_ATTEMPTS = 16;

export const CONSUMER_GROUPS = {
  rateLimiter: { name: 'rate-limiter', orderly: false, maxAttempts: DEFAULT_MAX_ATTEMPTS, description: 'Admission decisions and reservation reconciliation.' },
  inference: { name: 'inference', orderly: false, maxAttempts: 3, lanes: 32, description: 'Inference workers; a request that fails three times is dead-lettered. Each worker holds one lane, through which the rate-limiter sends it the requests of sessions pinned to it (session affinity).' },
  knowledgeIngest: { name: 'knowledge-ingest', orderly: true, maxAttempts: DEFAULT_MAX_ATTEMPTS, description: 'Applies knowledge changes in order per document.' },
  intentScheduler: { name: 'intent-scheduler', orderly: false, maxAttempts: DEFAULT_MAX_ATTEMPTS, description: 'Records session activity (submitted, completed) and new-content triggers.' },
  rtcPush: { name: 'rtc-push', orderly: true, maxAttempts: DEFAULT_MAX_ATTEMPTS, description: 'Delivers pushes in order per user.' },
  usageLedger: { name: 'usage-ledger', orderly: false, maxAttempts: DEFAULT_MAX_ATTEMPTS, description: "Writes one usage row per request's end (the usage ledger, in access)." },
} as const satisfies Record<string, ConsumerGroupSpec>;

export type ConsumerGroupKey = keyof typeof CONSUMER_GROUPS;
export type ConsumerGroupName = (typeof CONSUMER_GROUPS)[ConsumerGroupKey]['name'];

export interface BrokerTopology {
  readonly topics: readonly { name: string; messageType: MessageType; queues?: number }[];
  readonly groups: readonly { name: string; orderly: boolean; retryMaxTimes: number }[];
}

/**
 * Lanes route a message to one consumer instance without creating anything on the broker at run
 * time: lane groups are created with the topology, an instance claims a lane (in Redis) and
 * consumes that lane's group, and a publisher marks the message's tag with the lane so only that
 * group's filter takes it. The group's own (shared) subscription filters the bare tag and never
 * sees lane traffic.
 */
export function laneGroup(group: string, lane: number): string {
  return `${group}-lane-${String(lane).padStart(2, '0')}`;
}

const LANE_MARK = '@lane-';

export function laneTag(tag: string, lane: number): string {
  return `${tag}${LANE_MARK}${lane}`;
}

/** The event tag of a message tag, with any lane mark removed. */
export function eventTagOf(tag: string): string {
  const mark = tag.indexOf(LANE_MARK);
  return mark < 0 ? tag : tag.slice(0, mark);
}

/**
 * What the broker must have before any service starts, in a namespace ('' = none: the names of the
 * contracts as they are): read by `tools/rocketmq`, `npm start`, the deployment scripts and the tests.
 */
export function brokerTopology(namespace = ''): BrokerTopology {
  assertNamespace(namespace);
  const groups: ConsumerGroupSpec[] = Object.values(CONSUMER_GROUPS);
  return {
    topics: Object.values(TOPICS).map((topic: TopicSpec) => ({ name: namespaced(namespace, topic.name), messageType: topic.messageType, ...(topic.queues ? { queues: topic.queues } : {}) })),
    // RocketMQ counts retries after the first delivery: attempts = retries + 1.
    groups: groups.flatMap(({ name, orderly, maxAttempts, lanes = 0 }) =>
      [name, ...Array.from({ length: lanes }, (_, lane) => laneGroup(name, lane))].map((group) => ({ name: namespaced(namespace, group), orderly, retryMaxTimes: maxAttempts - 1 })),
    ),
  };
}

