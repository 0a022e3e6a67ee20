import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { CONSUMER_GROUPS, EVENTS, namespaced, parseEnvelope, TOPICS, type ConsumerGroupKey, type EventType } from '@aip/contracts';
import { mutated, nastyString, wrongValue } from './hostile.ts';

/**
 * A topic and tag a consumer of the run listens on, with the group that must dead-letter poison
 * there: the broker's names, in one of the run's namespaces (the group is this run's alone, so its
 * apps' metrics see every message).
 */
export interface ConsumerTarget {
  type: EventType;
  topic: string;
  tag: string;
  group: string;
  fifo: boolean;
  /** FIFO topics: the message group poison goes to unless a hostile one is drawn (one with valid traffic behind it). */
  messageGroup?: string;
}

export interface PoisonMessage {
  target: ConsumerTarget;
  body: Buffer;
  /** FIFO topics: the message group (one with valid traffic behind it, or a hostile one). */
  messageGroup?: string;
  how: string;
}

/** Plausible data per event, so mutations stay close to what consumers accept. */
const SAMPLE_DATA: Partial<Record<EventType, Record<string, unknown>>> = {
  'ai.request.submitted': { taskId: 'fuzz-task', keyId: 'fuzz-key', model: 'extractive', messages: [{ role: 'user', content: 'hi' }], maxTokens: 64, policy: { id: 'p', requestsPerMinute: 60 }, deadline: Date.now() + 60_000 },
  'ai.request.admitted': { taskId: 'fuzz-task', model: 'extractive', messages: [{ role: 'user', content: 'hi' }], maxTokens: 64, attempt: 1 },
  'ai.inference.completed': { taskId: 'fuzz-task', model: 'extractive', usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 } },
  'ai.inference.failed': { taskId: 'fuzz-task', code: 'model_failed', message: 'x', retryable: false },
  'ai.inference.cancelled': { taskId: 'fuzz-task' },
  'kb.change.upsert': { kbId: 'kb1', docId: 'fuzz-doc', mediaType: 'text/plain', content: 'hello' },
  'kb.change.delete': { kbId: 'kb1', docId: 'fuzz-doc' },
  'kb.document.indexed': { kbId: 'kb1', docId: 'fuzz-doc', version: 'v1', chunks: 1 },
  'rtc.push.proactive': { userId: 'fuzz-u1', intent: 'hotel_suggest', text: 'Want hotel ideas?', dedupeKey: 'd1' },
  'rtc.push.notice': { userId: 'fuzz-u1', title: 'New', text: 'New content', dedupeKey: 'd2' },
};

function envelope(type: EventType, data: unknown): Record<string, unknown> {
  return { id: randomUUID(), type, version: 1, source: 'fuzz', time: new Date().toISOString(), tenantId: 'fuzz', data };
}

/**
 * Bodies a consumer can never handle: cut-off JSON, random bytes, bytes that are not UTF-8, JSON
 * of another shape, an envelope of another type or version, an envelope with wrong data. Each is
 * checked against the contracts' own parser: only what it refuses counts as poison.
 */
export function poisonFor(targets: ConsumerTarget[]): fc.Arbitrary<PoisonMessage> {
  return fc
    .tuple(
      fc.constantFrom(...targets),
      fc.double({ min: 0, max: 0.999, noNaN: true }),
      fc.integer({ min: 0, max: 8 }),
      fc.oneof({ weight: 3, arbitrary: fc.constant<string | undefined>(undefined) }, { weight: 1, arbitrary: nastyString }),
    )
    .chain(([target, cut, kind, group]) => {
      const sample = SAMPLE_DATA[target.type] ?? { id: 'x' };
      const whole = Buffer.from(JSON.stringify(envelope(target.type, sample)));
      const messageGroup = target.fifo ? (group && group.length > 0 && group.length < 128 && ![...group].some((c) => c < ' ' || (c >= '\uD800' && c <= '\uDFFF')) ? group : target.messageGroup) : undefined;
      const base = { target, ...(messageGroup === undefined ? {} : { messageGroup }) };
      switch (kind) {
        case 0:
          return fc.constant({ ...base, body: whole.subarray(0, Math.max(1, Math.floor(whole.length * cut))), how: 'truncated envelope' });
        case 1:
          return fc.uint8Array({ minLength: 1, maxLength: 2_048 }).map((bytes) => ({ ...base, body: Buffer.from(bytes), how: 'random bytes' }));
        case 2: {
          const at = Math.floor(whole.length * cut);
          return fc.constant({ ...base, body: Buffer.concat([whole.subarray(0, at), Buffer.from([0xc0, 0xaf, 0xff, 0x00]), whole.subarray(at)]), how: 'invalid UTF-8 and NUL inside the envelope' });
        }
        case 3:
          return fc.jsonValue({ maxDepth: 4 }).map((value) => ({ ...base, body: Buffer.from(JSON.stringify(value) ?? 'null'), how: 'JSON of another shape' }));
        case 4:
          return mutated(sample as never).map((data) => ({ ...base, body: Buffer.from(JSON.stringify(envelope(target.type, data))), how: 'envelope with mutated data' }));
        case 5:
          return fc.tuple(fc.constantFrom('id', 'type', 'version', 'source', 'time', 'tenantId', 'traceparent', 'key'), wrongValue).map(([field, value]) => ({ ...base, body: Buffer.from(JSON.stringify({ ...envelope(target.type, sample), [field]: value })), how: `envelope with a wrong ${field}` }));
        case 6:
          return fc.constantFrom(2, 0, -1, 999, 1.5).map((version) => ({ ...base, body: Buffer.from(JSON.stringify({ ...envelope(target.type, sample), version })), how: `envelope version ${version}` }));
        case 7:
          return fc.integer({ min: 1_000, max: 50_000 }).map((depth) => ({ ...base, body: Buffer.from(JSON.stringify(envelope(target.type, 0)).replace('"data":0', `"data":${'['.repeat(depth)}${']'.repeat(depth)}`)), how: `data nested ${depth} deep` }));
        default:
          return fc.constant({ ...base, body: Buffer.from(JSON.stringify(envelope(target.type, sample)).replace(`"type":"${target.type}"`, '"type":"ai.request.unknown"')), how: 'envelope of an unknown type' });
      }
    })
    .filter((message) => {
      try {
        parseEnvelope(message.body, message.target.type);
        return false;
      } catch {
        return true;
      }
    });
}

/**
 * The consumers of the run, in its two namespaces: the platform's apps in `platform`,
 * intent-scheduler alone in `intent`. FIFO targets carry the message group poison goes to.
 */
export function consumerTargets(namespaces: { platform: string; intent: string }, fifo: { kbMessageGroup: string; pushUser: string }): ConsumerTarget[] {
  const target = (namespace: string, type: EventType, group: ConsumerGroupKey, messageGroup?: string): ConsumerTarget => ({
    type,
    topic: namespaced(namespace, TOPICS[EVENTS[type].topic].name),
    tag: EVENTS[type].tag,
    group: namespaced(namespace, CONSUMER_GROUPS[group].name),
    fifo: messageGroup !== undefined,
    ...(messageGroup ? { messageGroup } : {}),
  });
  const { platform, intent } = namespaces;
  return [
    target(platform, 'ai.request.submitted', 'rateLimiter'),
    target(platform, 'ai.inference.completed', 'rateLimiter'),
    target(platform, 'ai.inference.failed', 'rateLimiter'),
    target(platform, 'ai.inference.cancelled', 'rateLimiter'),
    target(platform, 'ai.request.admitted', 'inference'),
    target(platform, 'kb.change.upsert', 'knowledgeIngest', fifo.kbMessageGroup),
    target(platform, 'kb.change.delete', 'knowledgeIngest', fifo.kbMessageGroup),
    target(platform, 'rtc.push.proactive', 'rtcPush', fifo.pushUser),
    target(platform, 'rtc.push.notice', 'rtcPush', fifo.pushUser),
    target(intent, 'ai.request.submitted', 'intentScheduler'),
    target(intent, 'ai.inference.completed', 'intentScheduler'),
    target(intent, 'kb.document.indexed', 'intentScheduler'),
  ];
}

export function describePoison(message: PoisonMessage): string {
  const preview = message.body.subarray(0, 300).toString('latin1');
  return `${message.target.topic}/${message.target.tag} (group ${message.target.group})${message.messageGroup ? ` messageGroup=${JSON.stringify(message.messageGroup)}` : ''}: ${message.how}, ${message.body.length} bytes: ${JSON.stringify(preview)}`;
}
