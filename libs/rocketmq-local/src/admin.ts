// Topics and groups: remoting admin requests straight to the broker (see remoting.ts for why not
// mqadmin). One request reads the broker's table, one batch request creates what is missing or
// different, so applying hundreds of topics or groups takes a few milliseconds and is idempotent.

import { CLUSTER, resolveConfig, type BrokerOptions, type GroupSpec, type MessageType, type TopicSpec } from './config.ts';
import { masterBrokers } from './probes.ts';
import { RemotingError, RequestCode, ResponseCode, invoke, parseLenientJson, withConnection } from './remoting.ts';

export interface AdminOptions extends BrokerOptions {
  /** Name server to ask for the brokers; default from env/ports. */
  namesrv?: string;
  /** Read/write queues for new topics (default env ROCKETMQ_TOPIC_QUEUES or 4). */
  queueNums?: number;
  /** Talk to these broker addresses instead of asking the name server for the cluster's masters. */
  brokerAddrs?: string[];
}

export interface ApplyResult { created: string[]; updated: string[]; unchanged: string[] }

const TOPIC_TYPES: readonly MessageType[] = ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION'];

export async function adminBrokers(opts: AdminOptions): Promise<string[]> {
  if (opts.brokerAddrs?.length) return opts.brokerAddrs;
  const namesrv = opts.namesrv ?? process.env.ROCKETMQ_NAMESRV ?? resolveConfig(opts).namesrvAddr;
  const brokers = await masterBrokers(namesrv);
  if (brokers.length === 0) throw new Error(`no master broker of cluster ${CLUSTER} is registered at ${namesrv}`);
  return brokers;
}

/**
 * Creates (or fixes the message type of) topics in one request per broker. Topics that already
 * exist with the same message type are left alone. Fast: a few ms for hundreds of topics.
 */
export async function createTopics(topics: TopicSpec[], opts: AdminOptions = {}): Promise<ApplyResult> {
  const result: ApplyResult = { created: [], updated: [], unchanged: [] };
  if (topics.length === 0) return result;
  const queueNums = opts.queueNums ?? Number(process.env.ROCKETMQ_TOPIC_QUEUES ?? 4);
  const seen = new Map<string, { type: MessageType; queues: number }>();
  for (const t of topics) {
    if (!TOPIC_TYPES.includes(t.messageType)) throw new Error(`topic ${t.name}: unknown messageType ${t.messageType}`);
    const prev = seen.get(t.name);
    if (prev && prev.type !== t.messageType) throw new Error(`topic ${t.name} listed twice with different message types (${prev.type}, ${t.messageType})`);
    seen.set(t.name, { type: t.messageType, queues: Math.max(queueNums, t.queues ?? 0, prev?.queues ?? 0) });
  }
  for (const broker of await adminBrokers(opts)) {
    await withConnection(broker, async (c) => {
      // topicSeq/maxTopicNum: 5.5 pages this request when enableSplitMetadata=true and logs an error when absent
      const all = await c.request(RequestCode.GET_ALL_TOPIC_CONFIG, { topicSeq: 0, maxTopicNum: 2147483647 }, undefined, 10_000);
      if (all.code !== ResponseCode.SUCCESS) throw new RemotingError(`GET_ALL_TOPIC_CONFIG on ${broker}: ${all.code} ${all.remark ?? ''}`, all.code);
      const table = (parseLenientJson(all.body.toString('utf8')) as {
        topicConfigTable?: Record<string, { readQueueNums: number; writeQueueNums: number; perm: number; attributes?: Record<string, string> }>;
      }).topicConfigTable ?? {};
      const changes: object[] = [];
      for (const [name, { type, queues }] of seen) {
        const existing = table[name];
        const existingType = existing ? (existing.attributes?.['message.type'] ?? 'NORMAL') : undefined;
        // Queues are only ever added (fewer would strand the messages of the queues taken away).
        const enoughQueues = existing !== undefined && existing.readQueueNums >= queues && existing.writeQueueNums >= queues;
        if (existing && existingType === type && (existing.perm & 6) === 6 && enoughQueues) {
          result.unchanged.push(name);
          continue;
        }
        (existing ? result.updated : result.created).push(name);
        changes.push({
          topicName: name,
          readQueueNums: Math.max(existing?.readQueueNums ?? 0, queues),
          writeQueueNums: Math.max(existing?.writeQueueNums ?? 0, queues),
          perm: 6,
          topicFilterType: 'SINGLE_TAG',
          topicSysFlag: 0,
          order: false,
          attributes: { '+message.type': type },
        });
      }
      if (changes.length === 0) return;
      // NB: the broker's UPDATE_AND_CREATE_TOPIC_LIST returns SUCCESS without creating anything
      // as soon as ONE listed topic is unchanged — which is why unchanged topics are filtered above.
      const res = await c.request(RequestCode.UPDATE_AND_CREATE_TOPIC_LIST, {}, JSON.stringify({ topicConfigList: changes }), 30_000);
      if (res.code !== ResponseCode.SUCCESS) {
        throw new RemotingError(`creating topics on ${broker} failed: code=${res.code} ${res.remark ?? ''}`, res.code);
      }
    });
  }
  return result;
}

/**
 * Creates or updates consumer groups in one request per broker. `orderly` = consumeMessageOrderly
 * (the proxy then hands FIFO delivery to gRPC consumers); retryMaxTimes = redeliveries before the
 * message goes to %DLQ%<group> (the proxy's max delivery attempts is retryMaxTimes + 1).
 */
export async function createGroups(groups: GroupSpec[], opts: AdminOptions = {}): Promise<ApplyResult> {
  const result: ApplyResult = { created: [], updated: [], unchanged: [] };
  if (groups.length === 0) return result;
  const wanted = new Map<string, GroupSpec>();
  for (const g of groups) {
    if (!Number.isInteger(g.retryMaxTimes) || g.retryMaxTimes < 0) throw new Error(`group ${g.name}: retryMaxTimes must be an integer >= 0`);
    const prev = wanted.get(g.name);
    if (prev && (prev.orderly !== g.orderly || prev.retryMaxTimes !== g.retryMaxTimes)) {
      throw new Error(`group ${g.name} listed twice with different settings`);
    }
    wanted.set(g.name, g);
  }
  for (const broker of await adminBrokers(opts)) {
    await withConnection(broker, async (c) => {
      const all = await c.request(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, { groupSeq: 0, maxGroupNum: 2147483647 }, undefined, 10_000);
      if (all.code !== ResponseCode.SUCCESS) throw new RemotingError(`GET_ALL_SUBSCRIPTIONGROUP_CONFIG on ${broker}: ${all.code} ${all.remark ?? ''}`, all.code);
      const table = (parseLenientJson(all.body.toString('utf8')) as {
        subscriptionGroupTable?: Record<string, Record<string, unknown>>;
      }).subscriptionGroupTable ?? {};
      const changes: object[] = [];
      for (const g of wanted.values()) {
        const existing = table[g.name];
        if (existing && existing.consumeMessageOrderly === g.orderly && existing.retryMaxTimes === g.retryMaxTimes
          && existing.consumeEnable !== false) {
          result.unchanged.push(g.name);
          continue;
        }
        (existing ? result.updated : result.created).push(g.name);
        changes.push({
          // keep whatever the broker already had (e.g. an auto-created group), override ours
          consumeBroadcastEnable: false,
          consumeFromMinEnable: true,
          retryQueueNums: 1,
          brokerId: 0,
          whichBrokerWhenConsumeSlowly: 1,
          notifyConsumerIdsChangedEnable: true,
          groupSysFlag: 0,
          consumeTimeoutMinute: 15,
          ...(existing ?? {}),
          groupName: g.name,
          consumeEnable: true,
          consumeMessageOrderly: g.orderly,
          retryMaxTimes: g.retryMaxTimes,
        });
      }
      if (changes.length === 0) return;
      const res = await c.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST, {}, JSON.stringify({ groupConfigList: changes }), 30_000);
      if (res.code !== ResponseCode.SUCCESS) {
        throw new RemotingError(`creating groups on ${broker} failed: code=${res.code} ${res.remark ?? ''}`, res.code);
      }
    });
  }
  return result;
}

/** Topic route as the name server sees it (undefined when the topic does not exist). */
export async function topicRoute(topic: string, opts: AdminOptions = {}): Promise<unknown> {
  const namesrv = opts.namesrv ?? process.env.ROCKETMQ_NAMESRV ?? resolveConfig(opts).namesrvAddr;
  const res = await invoke(namesrv, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }, undefined,
    { okCodes: [ResponseCode.SUCCESS, ResponseCode.TOPIC_NOT_EXIST] });
  return res.code === ResponseCode.SUCCESS ? parseLenientJson(res.body.toString('utf8')) : undefined;
}
