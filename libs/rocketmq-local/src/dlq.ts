// Dead-letter queue tooling: browse %DLQ%<group> and replay dead letters to their original topic.
//
// What works with RocketMQ 5.5 (verified on the real broker, see README "Findings"):
// - A gRPC SimpleConsumer in a dedicated group (aip-dlq-tool) can receive from %DLQ%<group> through
//   the proxy: the DLQ topic is created readable+writable (perm 6) the first time a message is
//   dead-lettered. The group must exist beforehand (the proxy does not auto-create gRPC groups).
// - The message keeps its id, tag, keys, user properties, message group and body, but the proxy
//   does NOT pass the original topic to gRPC clients: the broker stores it in the system property
//   RETRY_TOPIC, which the proxy filters out (DLQ_ORIGIN_TOPIC, which it would expose, is never set).
//   FIFO dead letters also leak the internal property __SHARDINGKEY into the user properties.
// So: `list` browses the DLQ with a remoting pull straight from the broker (non-destructive, all
// properties incl. RETRY_TOPIC), and `replay` consumes with the gRPC SimpleConsumer, re-publishes with
// the gRPC Producer to the original topic (found by browsing), and acks the dead letter.

import { createRequire } from 'node:module';
import path from 'node:path';
import { createGroups, type AdminOptions } from './admin.ts';
import { resolveConfig, type MessageType } from './config.ts';
import { RequestCode, ResponseCode, decodeMessages, parseLenientJson, withConnection } from './remoting.ts';

export const DLQ_TOOL_GROUP = 'aip-dlq-tool';
/** User property added to replayed messages: the dead letter's message id. */
export const REPLAY_OF_PROPERTY = 'aip-dlq-replay-of';
const INTERNAL_PROPS = new Set(['__SHARDINGKEY']);

export interface DlqEntry {
  messageId: string;
  queueId: number;
  queueOffset: number;
  broker: string;
  tag?: string;
  keys: string[];
  messageGroup?: string;
  /** Topic the message was consumed from before it died (broker property RETRY_TOPIC). */
  originalTopic?: string;
  /** Raw RETRY_TOPIC property. */
  retryTopic?: string;
  /** Broker-side id of the first delivery (ORIGIN_MESSAGE_ID). */
  originMessageId?: string;
  reconsumeTimes: number;
  bornTimestamp: string;
  storeTimestamp: string;
  userProperties: Record<string, string>;
  bodySize: number;
  bodyPreview: string;
  /** True when aip-dlq-tool's consume offset is past this message (taken by a replay). */
  taken: boolean;
}

// MessageConst.STRING_HASH_SET of RocketMQ 5.5.0 (system properties, hidden from gRPC user properties),
// plus the FIFO message group key that the proxy does leak.
const SYSTEM_PROPS = new Set(('1ST_POP_TIME ARRIVE_TIME BORN_TIMESTAMP BUYER_ID CLUSTER CONSUME_START_TIME CORRECTION_FLAG ' +
  'CORRELATION_ID DELAY DLQ_ORIGIN_MESSAGE_ID DLQ_ORIGIN_TOPIC DUP_INFO EXTEND_UNIQ_INFO INNER_MULTI_QUEUE_OFFSET INSTANCE_ID ' +
  'KEYS MAX_OFFSET MAX_RECONSUME_TIMES MIN_OFFSET MQ2_FLAG MSG_REGION MSG_TYPE ORIGIN_GROUP ORIGIN_MESSAGE_ID PGROUP POP_CK ' +
  'POP_CK_OFFSET PUSH_REPLY_TIME REAL_QID REAL_TOPIC RECONSUME_TIME REPLY_TO_CLIENT RETRY_TOPIC TAGS TIMER_DELAY_LEVEL ' +
  'TIMER_DELAY_MS TIMER_DELAY_SEC TIMER_DELIVER_MS TIMER_DEL_UNIQKEY TIMER_DEQUEUE_MS TIMER_ENQUEUE_MS TIMER_OUT_MS ' +
  'TIMER_ROLL_TIMES TRACE_ON TRANSFER_FLAG TRAN_MSG TRAN_PREPARED_QUEUE_OFFSET TTL UNIQ_KEY WAIT _SYS_MSG_PRIORITY_ ' +
  '__BORNHOST __CRC32# __LITE_TOPIC __SHARDINGKEY').split(' '));

/**
 * The broker records the topic a dead letter was consumed from in RETRY_TOPIC. For messages that
 * went through pop (gRPC) retries that is the group's retry topic: %RETRY%<group>_<topic> (v1 naming)
 * or %RETRY%<group>+<topic> (enableRetryTopicV2) — strip it to get the original topic.
 */
export function originalTopicOf(retryTopic: string | undefined, group: string): string | undefined {
  if (!retryTopic) return undefined;
  for (const sep of ['_', '+']) {
    const prefix = `%RETRY%${group}${sep}`;
    if (retryTopic.startsWith(prefix)) return retryTopic.slice(prefix.length);
  }
  if (retryTopic === `%RETRY%${group}`) return undefined; // remoting push-consumer retry: topic unknown
  return retryTopic;
}

function dlqTopic(group: string): string {
  return `%DLQ%${group}`;
}

function namesrvOf(opts: AdminOptions): string {
  return opts.namesrv ?? process.env.ROCKETMQ_NAMESRV ?? resolveConfig(opts).namesrvAddr;
}

function preview(body: Buffer, max = 120): string {
  const s = body.subarray(0, max * 4).toString('utf8').replace(/\s+/g, ' ');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

interface RouteData { brokerDatas: { brokerName: string; brokerAddrs: Record<string, string> }[]; queueDatas: { brokerName: string; readQueueNums: number }[] }

async function dlqQueues(group: string, opts: AdminOptions): Promise<{ broker: string; queueId: number }[]> {
  const topic = dlqTopic(group);
  const namesrv = namesrvOf(opts);
  const route = await withConnection(namesrv, async (c) => {
    const r = await c.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic });
    if (r.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
    if (r.code !== ResponseCode.SUCCESS) throw new Error(`route of ${topic}: code=${r.code} ${r.remark ?? ''}`);
    return parseLenientJson(r.body.toString('utf8')) as RouteData;
  });
  if (!route) return [];
  const out: { broker: string; queueId: number }[] = [];
  for (const q of route.queueDatas) {
    const addr = route.brokerDatas.find((b) => b.brokerName === q.brokerName)?.brokerAddrs['0'];
    if (!addr) continue;
    for (let i = 0; i < q.readQueueNums; i++) out.push({ broker: addr, queueId: i });
  }
  return out;
}

/**
 * Lists (without consuming) the newest `limit` messages of %DLQ%<group> per queue, oldest first.
 * Reads straight from the broker over the remoting protocol, so nothing changes in the DLQ.
 */
export async function dlqList(group: string, opts: AdminOptions & { limit?: number } = {}): Promise<DlqEntry[]> {
  const topic = dlqTopic(group);
  const limit = opts.limit ?? 50;
  const entries: DlqEntry[] = [];
  for (const { broker, queueId } of await dlqQueues(group, opts)) {
    await withConnection(broker, async (c) => {
      const min = Number((await c.request(RequestCode.GET_MIN_OFFSET, { topic, queueId })).extFields.offset ?? 0);
      const max = Number((await c.request(RequestCode.GET_MAX_OFFSET, { topic, queueId })).extFields.offset ?? 0);
      const co = await c.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: DLQ_TOOL_GROUP, topic, queueId, setZeroIfNotFound: false });
      const taken = co.code === ResponseCode.SUCCESS ? Number(co.extFields.offset ?? 0) : 0;
      let offset = Math.max(min, max - limit);
      while (offset < max) {
        const res = await c.request(RequestCode.PULL_MESSAGE, {
          consumerGroup: DLQ_TOOL_GROUP, topic, queueId, queueOffset: offset, maxMsgNums: Math.min(32, max - offset),
          sysFlag: 4 /* FLAG_SUBSCRIPTION: use the expression below, no commit */, commitOffset: 0, suspendTimeoutMillis: 0,
          subscription: '*', subVersion: 0, expressionType: 'TAG',
        }, undefined, 10_000);
        if (res.code !== ResponseCode.SUCCESS) {
          if (res.code === ResponseCode.PULL_OFFSET_MOVED || res.code === ResponseCode.PULL_NOT_FOUND) {
            const next = Number(res.extFields.nextBeginOffset ?? offset + 1);
            if (next <= offset) break;
            offset = next;
            continue;
          }
          throw new Error(`pull ${topic}@${broker} q${queueId} offset ${offset}: code=${res.code} ${res.remark ?? ''}`);
        }
        const msgs = decodeMessages(res.body);
        if (msgs.length === 0) break;
        for (const m of msgs) {
          const p = m.properties;
          const userProperties: Record<string, string> = {};
          for (const [k, v] of Object.entries(p)) if (!SYSTEM_PROPS.has(k)) userProperties[k] = v;
          entries.push({
            messageId: p.UNIQ_KEY ?? '',
            queueId: m.queueId,
            queueOffset: m.queueOffset,
            broker,
            tag: p.TAGS,
            keys: p.KEYS ? p.KEYS.split(' ').filter(Boolean) : [],
            messageGroup: p.__SHARDINGKEY,
            originalTopic: originalTopicOf(p.RETRY_TOPIC, group),
            retryTopic: p.RETRY_TOPIC,
            originMessageId: p.ORIGIN_MESSAGE_ID,
            reconsumeTimes: m.reconsumeTimes,
            bornTimestamp: new Date(m.bornTimestamp).toISOString(),
            storeTimestamp: new Date(m.storeTimestamp).toISOString(),
            userProperties,
            bodySize: m.body.length,
            bodyPreview: m.bodyCompressedUnsupported ? '(compressed body)' : preview(m.body),
            taken: m.queueOffset < taken,
          });
        }
        offset = (msgs.at(-1)?.queueOffset ?? offset) + 1;
      }
    });
  }
  return entries;
}

export function formatDlqList(group: string, items: DlqEntry[]): string {
  if (items.length === 0) return `%DLQ%${group}: empty (or no message was dead-lettered for this group yet)`;
  const lines = [`%DLQ%${group}: ${items.length} message(s) (oldest first; "taken" = already consumed by ${DLQ_TOOL_GROUP})`];
  for (const e of items) {
    lines.push(`- ${e.messageId}  offset=${e.queueOffset}${e.taken ? '  [taken]' : ''}`);
    lines.push(`    original topic: ${e.originalTopic ?? '?'}   tag: ${e.tag ?? '-'}   keys: ${e.keys.join(',') || '-'}` +
      `${e.messageGroup ? `   message group: ${e.messageGroup}` : ''}`);
    lines.push(`    reconsumeTimes: ${e.reconsumeTimes}   born: ${e.bornTimestamp}   dead-lettered: ${e.storeTimestamp}` +
      `${e.originMessageId ? `   origin id: ${e.originMessageId}` : ''}`);
    if (Object.keys(e.userProperties).length) lines.push(`    properties: ${JSON.stringify(e.userProperties)}`);
    lines.push(`    body (${e.bodySize} B): ${e.bodyPreview}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Replay with rocketmq-client-nodejs

interface MessageViewLike {
  messageId: string; topic: string; body: Buffer; tag?: string; keys: string[]; messageGroup?: string;
  properties: Map<string, string>; deliveryAttempt?: number;
}
interface SimpleConsumerLike {
  startup(): Promise<void>; shutdown(): Promise<void>;
  receive(max: number, invisibleMs: number): Promise<MessageViewLike[]>;
  ack(m: MessageViewLike): Promise<void>;
  changeInvisibleDuration(m: MessageViewLike, ms: number): Promise<void>;
}
interface ProducerLike {
  startup(): Promise<void>; shutdown(): Promise<void>;
  send(m: Record<string, unknown>, tx?: unknown): Promise<{ messageId: string }>;
  beginTransaction(): { commit(): Promise<void> };
}
interface ClientModule {
  Producer: new (o: Record<string, unknown>) => ProducerLike;
  SimpleConsumer: new (o: Record<string, unknown>) => SimpleConsumerLike;
}

/** rocketmq-client-nodejs, resolved from this repo, else from the current directory. */
export async function loadClient(): Promise<ClientModule> {
  try {
    const mod = await import('rocketmq-client-nodejs') as unknown as { default?: ClientModule } & ClientModule;
    return mod.default ?? mod;
  } catch (first) {
    try {
      return createRequire(path.join(process.cwd(), 'noop.js'))('rocketmq-client-nodejs') as ClientModule;
    } catch {
      throw new Error(`rocketmq-client-nodejs is not installed: ${(first as Error).message}`);
    }
  }
}

/** A logger for the client that stays quiet (the default one writes to ~/logs/rocketmq). */
export function quietLogger(debug = Boolean(process.env.ROCKETMQ_CLIENT_DEBUG)) {
  const err = (...a: unknown[]) => {
    if (debug) console.error('[rocketmq-client]', ...a);
  };
  return { info: err, warn: err, error: err, debug: err, close: () => {} };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

async function topicTypes(brokers: string[]): Promise<Map<string, MessageType>> {
  const out = new Map<string, MessageType>();
  for (const b of brokers) {
    await withConnection(b, async (c) => {
      const r = await c.request(RequestCode.GET_ALL_TOPIC_CONFIG, { topicSeq: 0, maxTopicNum: 2147483647 }, undefined, 10_000);
      const table = (parseLenientJson(r.body.toString('utf8')) as { topicConfigTable?: Record<string, { attributes?: Record<string, string> }> })
        .topicConfigTable ?? {};
      for (const [name, cfg] of Object.entries(table)) out.set(name, (cfg.attributes?.['message.type'] ?? 'NORMAL') as MessageType);
    });
  }
  return out;
}

export interface ReplayOptions extends AdminOptions {
  /** Message ids to replay; undefined = all pending dead letters. */
  ids?: string[];
  /** Override the destination topic (default: the original topic of each message). */
  topic?: string;
  /** Stop after this many seconds (default 60). */
  waitSeconds?: number;
  /** Proxy gRPC endpoint; default env ROCKETMQ_ENDPOINTS or the local proxy. */
  endpoints?: string;
  log?: (m: string) => void;
}

export interface ReplayResult {
  replayed: { messageId: string; topic: string; newMessageId: string }[];
  missing: string[];
  failed: { messageId: string; error: string }[];
}

/**
 * Re-publishes dead letters of `group` to their original topic (same body, tag, keys, message group,
 * user properties + aip-dlq-replay-of) and acks them in the DLQ with the consumer group aip-dlq-tool.
 */
export async function dlqReplay(group: string, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const log = opts.log ?? (() => {});
  const topic = dlqTopic(group);
  const endpoints = opts.endpoints ?? process.env.ROCKETMQ_ENDPOINTS ?? resolveConfig(opts).endpoints;
  const result: ReplayResult = { replayed: [], missing: [], failed: [] };
  const queues = await dlqQueues(group, opts);
  if (queues.length === 0) {
    result.missing.push(...(opts.ids ?? []));
    log(`${topic} does not exist: nothing was dead-lettered for ${group}`);
    return result;
  }
  // The gRPC consumer group must exist (the proxy does not auto-create it); many retries allowed.
  await createGroups([{ name: DLQ_TOOL_GROUP, orderly: false, retryMaxTimes: 1000 }], opts);
  const browse = new Map((await dlqList(group, { ...opts, limit: 100_000 })).map((e) => [e.messageId, e]));
  const types = await topicTypes([...new Set(queues.map((q) => q.broker))]);

  const wanted = opts.ids ? new Set(opts.ids) : undefined;
  const { Producer, SimpleConsumer } = await loadClient();
  const logger = quietLogger();
  const producer = new Producer({ endpoints, namespace: '', logger, checker: { check: async () => 1 /* COMMIT */ } });
  const consumer = new SimpleConsumer({
    endpoints, namespace: '', logger, consumerGroup: DLQ_TOOL_GROUP, subscriptions: new Map([[topic, '*']]), awaitDuration: 5000,
  });
  await withTimeout(producer.startup(), 15_000, 'producer startup');
  await withTimeout(consumer.startup(), 15_000, 'consumer startup');
  const deadline = Date.now() + (opts.waitSeconds ?? 60) * 1000;
  const seen = new Set<string>();
  const others: MessageViewLike[] = [];
  try {
    while (Date.now() < deadline) {
      if (wanted && [...wanted].every((id) => seen.has(id))) break;
      const batch = await consumer.receive(32, 60_000);
      const fresh = batch.filter((m) => !seen.has(m.messageId));
      if (batch.length === 0 || fresh.length === 0) break; // long poll came back empty: nothing pending
      for (const m of batch) {
        if (seen.has(m.messageId)) continue;
        seen.add(m.messageId);
        if (wanted && !wanted.has(m.messageId)) {
          others.push(m);
          continue;
        }
        const target = opts.topic ?? browse.get(m.messageId)?.originalTopic;
        if (!target) {
          result.failed.push({ messageId: m.messageId, error: 'original topic unknown (pass --topic)' });
          others.push(m);
          continue;
        }
        try {
          const properties = new Map([...m.properties].filter(([k]) => !INTERNAL_PROPS.has(k)));
          properties.set(REPLAY_OF_PROPERTY, m.messageId);
          const msg: Record<string, unknown> = { topic: target, body: m.body, keys: m.keys, properties };
          if (m.tag) msg.tag = m.tag;
          if (m.messageGroup) msg.messageGroup = m.messageGroup;
          const type = types.get(target);
          if (type === 'DELAY') msg.deliveryTimestamp = new Date();
          let receipt: { messageId: string };
          if (type === 'TRANSACTION') {
            const tx = producer.beginTransaction();
            receipt = await producer.send(msg, tx);
            await tx.commit();
          } else {
            receipt = await producer.send(msg);
          }
          await consumer.ack(m);
          result.replayed.push({ messageId: m.messageId, topic: target, newMessageId: receipt.messageId });
          log(`replayed ${m.messageId} -> ${target}`);
        } catch (e) {
          result.failed.push({ messageId: m.messageId, error: (e as Error).message });
          others.push(m);
        }
      }
    }
    // Make what we received but did not replay visible again right away.
    for (const m of others) {
      try {
        await consumer.changeInvisibleDuration(m, 0);
      } catch {
        // it becomes visible anyway when its invisible duration ends
      }
    }
  } finally {
    await consumer.shutdown().catch(() => {});
    await producer.shutdown().catch(() => {});
  }
  if (wanted) {
    const done = new Set(result.replayed.map((r) => r.messageId));
    const failed = new Set(result.failed.map((f) => f.messageId));
    for (const id of wanted) if (!done.has(id) && !failed.has(id)) result.missing.push(id);
  }
  return result;
}
