import type { z } from 'zod';
import { budgetThreshold } from './events/budget.schema.ts';
import { configChanged } from './events/config.schema.ts';
import { inferenceCancelled, inferenceCompleted, inferenceFailed, inferenceStarted } from './events/inference.schema.ts';
import { kbChangeDelete, kbChangeUpsert, kbDocumentDeleted, kbDocumentFailed, kbDocumentIndexed } from './events/knowledge.schema.ts';
import { pushNotice, pushProactive } from './events/push.schema.ts';
import { requestAdmitted, requestRejected, requestSubmitted } from './events/request.schema.ts';
import { conversationDeleted, userProfileDeleted, userProfileUpdated } from './events/user.schema.ts';
import { fifoGroupOf, messageKeyOf } from './message-naming.ts';
import { CONSUMER_GROUPS, TOPICS, type ConsumerGroupKey, type TopicKey } from './topology.ts';

export interface EventSpec<S extends z.ZodType = z.ZodType, T extends TopicKey = TopicKey> {
  readonly topic: T;
  /** The RocketMQ message tag: consumers filter on it broker-side. */
  readonly tag: string;
  /** The version producers write. */
  readonly version: number;
  /** Every version consumers accept. A breaking change adds a version; both are read during the overlap. */
  readonly versions: Readonly<Record<number, z.ZodType>>;
  /** The schema of the current version. */
  readonly schema: S;
  /** Groups that consume it in the platform (documentation and broker bootstrap). */
  readonly consumers: readonly ConsumerGroupKey[];
  /** FIFO topics: the message group, so events of one entity are applied in order. */
  readonly messageGroup?: (data: z.infer<S>) => string;
  /** Message key, searchable in the broker (e.g. the task id). */
  readonly key?: (data: z.infer<S>) => string;
  readonly summary: string;
}

function event<S extends z.ZodType, T extends TopicKey>(spec: Omit<EventSpec<S, T>, 'versions' | 'version'> & { version?: number }): EventSpec<S, T> {
  const version = spec.version ?? 1;
  return { ...spec, version, versions: { [version]: spec.schema } };
}

/**
 * Every event of the platform, keyed by its type. The type is what handlers subscribe to
 * (`@EventPattern('ai.request.submitted')`); topic and tag follow from it.
 */
export const EVENTS = {
  'ai.request.submitted': event({
    topic: 'aiRequest', tag: 'submitted', schema: requestSubmitted, consumers: ['rateLimiter', 'intentScheduler'],
    key: (d) => d.taskId, summary: 'A client request, before admission.',
  }),
  'ai.request.admitted': event({
    topic: 'aiInference', tag: 'admitted', schema: requestAdmitted, consumers: ['inference'],
    key: (d) => d.request.taskId, summary: 'Capacity is reserved; a worker with a free slot takes it.',
  }),
  'ai.request.rejected': event({
    topic: 'aiLifecycle', tag: 'rejected', schema: requestRejected, consumers: ['usageLedger'],
    key: (d) => d.taskId, summary: 'The limiter rejected a request (limit, budget, deadline).',
  }),
  'ai.inference.started': event({
    topic: 'aiLifecycle', tag: 'started', schema: inferenceStarted, consumers: ['intentScheduler'],
    key: (d) => d.taskId, summary: 'A worker started generating.',
  }),
  'ai.inference.completed': event({
    topic: 'aiLifecycle', tag: 'completed', schema: inferenceCompleted, consumers: ['rateLimiter', 'intentScheduler', 'usageLedger'],
    key: (d) => d.taskId, summary: 'Generation finished; usage is final.',
  }),
  'ai.inference.failed': event({
    topic: 'aiLifecycle', tag: 'failed', schema: inferenceFailed, consumers: ['rateLimiter', 'usageLedger'],
    key: (d) => d.taskId, summary: 'Generation failed on every provider of the chain.',
  }),
  'ai.inference.cancelled': event({
    topic: 'aiLifecycle', tag: 'cancelled', schema: inferenceCancelled, consumers: ['rateLimiter', 'usageLedger'],
    key: (d) => d.taskId, summary: 'The client cancelled the task.',
  }),
  'ai.budget.threshold': event({
    topic: 'aiLifecycle', tag: 'budget-threshold', schema: budgetThreshold, consumers: [],
    key: (d) => d.budgetId, summary: "A spend budget crossed its soft limit (once per budget and period); its hard limit refuses requests at admission.",
  }),
  'kb.change.upsert': event({
    topic: 'kbChange', tag: 'upsert', schema: kbChangeUpsert, consumers: ['knowledgeIngest'],
    // Any id the schema accepts fits: `kbId:docId` when the broker takes it, a digest otherwise.
    messageGroup: (d) => fifoGroupOf(d.kbId, d.docId), key: (d) => messageKeyOf(d.docId),
    summary: 'Create or replace a document (upload or change-data-capture).',
  }),
  'kb.change.delete': event({
    topic: 'kbChange', tag: 'delete', schema: kbChangeDelete, consumers: ['knowledgeIngest'],
    messageGroup: (d) => fifoGroupOf(d.kbId, d.docId), key: (d) => messageKeyOf(d.docId), summary: 'Delete a document.',
  }),
  'kb.document.indexed': event({
    topic: 'kbLifecycle', tag: 'indexed', schema: kbDocumentIndexed, consumers: ['intentScheduler'],
    key: (d) => messageKeyOf(d.docId), summary: 'A document version is fully searchable.',
  }),
  'kb.document.deleted': event({
    topic: 'kbLifecycle', tag: 'deleted', schema: kbDocumentDeleted, consumers: [],
    key: (d) => messageKeyOf(d.docId), summary: 'No chunk of the document is searchable any more.',
  }),
  'kb.document.failed': event({
    topic: 'kbLifecycle', tag: 'failed', schema: kbDocumentFailed, consumers: [],
    key: (d) => messageKeyOf(d.docId), summary: 'A document could not be indexed; the reason says why.',
  }),
  'rtc.push.proactive': event({
    topic: 'rtcPush', tag: 'proactive', schema: pushProactive, consumers: ['rtcPush'],
    messageGroup: (d) => fifoGroupOf(d.userId), key: (d) => messageKeyOf(d.dedupeKey), summary: 'A proactive prompt for one user.',
  }),
  'rtc.push.notice': event({
    topic: 'rtcPush', tag: 'notice', schema: pushNotice, consumers: ['rtcPush'],
    messageGroup: (d) => fifoGroupOf(d.userId), key: (d) => messageKeyOf(d.userId), summary: 'A notice for one user.',
  }),
  'user.profile.updated': event({
    topic: 'userProfile', tag: 'updated', schema: userProfileUpdated, consumers: ['intentScheduler'],
    messageGroup: (d) => fifoGroupOf(d.userId), key: (d) => messageKeyOf(d.userId),
    summary: "A user's profile was created, replaced or changed; carries the whole profile as it now is.",
  }),
  'user.profile.deleted': event({
    topic: 'userProfile', tag: 'deleted', schema: userProfileDeleted, consumers: ['intentScheduler'],
    messageGroup: (d) => fifoGroupOf(d.userId), key: (d) => messageKeyOf(d.userId),
    summary: "A user's profile was deleted (erasure: drop any copy of it).",
  }),
  'conversation.deleted': event({
    topic: 'userProfile', tag: 'conversation-deleted', schema: conversationDeleted, consumers: ['intentScheduler'],
    messageGroup: (d) => fifoGroupOf(d.userId ?? d.conversationId), key: (d) => messageKeyOf(d.conversationId),
    summary: 'A conversation was deleted with its items and stored responses: drop what was derived from it (proactive state).',
  }),
  'config.policy.changed': event({
    topic: 'configChange', tag: 'policy', schema: configChanged, consumers: [],
    key: (d) => d.documentId, summary: 'Audit: the rate-limit policies document changed (instances apply it by polling, ADR 0020).',
  }),
  'config.words.changed': event({
    topic: 'configChange', tag: 'words', schema: configChanged, consumers: [],
    key: (d) => d.documentId, summary: 'Audit: the sensitive-word document changed (instances apply it by polling, ADR 0020).',
  }),
  'config.routing.changed': event({
    topic: 'configChange', tag: 'routing', schema: configChanged, consumers: [],
    key: (d) => d.documentId, summary: 'Audit: the model routing document changed (instances apply it by polling, ADR 0020).',
  }),
  'config.intents.changed': event({
    topic: 'configChange', tag: 'intents', schema: configChanged, consumers: [],
    key: (d) => d.documentId, summary: 'Audit: the intent catalogue document changed (instances apply it by polling, ADR 0020).',
  }),
} as const;

export type EventType = keyof typeof EVENTS;
export type EventData<T extends EventType> = z.infer<(typeof EVENTS)[T]['schema']>;
/** What a producer hands over: `default`ed fields may be omitted. */
export type EventInput<T extends EventType> = z.input<(typeof EVENTS)[T]['schema']>;

export const EVENT_TYPES = Object.keys(EVENTS) as EventType[];

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENTS, value);
}

export function topicOf(type: EventType) {
  return TOPICS[EVENTS[type].topic];
}

/** The event a (topic, tag) pair carries, if any. */
export function eventForTag(topicName: string, tag: string): EventType | undefined {
  return EVENT_TYPES.find((type) => topicOf(type).name === topicName && EVENTS[type].tag === tag);
}

export function groupOf(key: ConsumerGroupKey) {
  return CONSUMER_GROUPS[key];
}
