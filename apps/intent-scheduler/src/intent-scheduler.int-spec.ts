import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CONSUMER_GROUPS, type Envelope } from '@aip/contracts';
import { createEmbeddings, embeddingsConfigOf } from '@aip/embeddings';
import { ApiKeyStore } from '@aip/keys';
import { EventPublisher, MessagingMetrics, RocketMQContext, RocketMQEvent, RocketMQServer } from '@aip/messaging';
import { ConfigDocuments, startPlatformApp } from '@aip/runtime';
import { ConversationStore, ProfileStore, textItem } from '@aip/tasks';
import { Collector, deleteKeys, eventually, provisionNamespace, testConnection, testRedis, testRedisUrl, uniqueName, uniqueNamespace } from '@aip/testing';
import type { Embeddings } from '@langchain/core/embeddings';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { appOptions } from './app.options.ts';
import { CatalogueHolder } from './catalogue/catalogue.holder.ts';
import { DEFAULT_CATALOGUE } from './catalogue/default-catalogue.ts';
import { intentSchedulerEnvSchema } from './intent-scheduler.config.ts';
import { SchedulerMetrics } from './metrics/scheduler.metrics.ts';

// Two scheduler instances (replicas) on the real broker and Redis, the real embedded model, and the
// contracts' topics and groups in a namespace of this run's own (ROCKETMQ_NAMESPACE). The push topic
// is the FIFO `rtc-push`; this test reads it in the namespace's rtc-push group, standing in for rtc-push.
const logger = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });
const TENANT = uniqueName('tenant');
const OTHER_TENANT = uniqueName('tenant');
const prefix = `${uniqueName('it-intent')}:`;
const namespace = uniqueNamespace('it-intent');
const TICK_MS = 400;
const SHARDS = 4;
const USER_GRACE_MS = 1_500;

type Push = { envelope: Envelope<'rtc.push.proactive'> | Envelope<'rtc.push.notice'>; messageGroup: string | undefined; receivedAt: number };

let redis: Redis;
let embeddings: Embeddings;
let publisher: EventPublisher;
let history: ConversationStore;
let apiKey: string;
const schedulers: NestFastifyApplication[] = [];
let pushConsumer: INestMicroservice;
const pushes = new Collector<Push>();
const metrics = SchedulerMetrics.for();

async function startScheduler(instance: string) {
  const env = intentSchedulerEnvSchema.parse({
    ROCKETMQ_ENDPOINTS: testConnection().endpoints,
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    PORT: '0',
    INSTANCE_ID: instance,
    INTENT_TICK_MS: String(TICK_MS),
    INTENT_SHARDS: String(SHARDS),
    ROCKETMQ_NAMESPACE: namespace,
  });
  const { app } = await startPlatformApp(appOptions(env, { redis: testRedis(), logger, embeddings }));
  schedulers.push(app);
  return app;
}

async function startPushConsumer() {
  @Controller()
  class PushHandlers {
    @RocketMQEvent('rtc.push.proactive')
    onProactive(@Payload() envelope: Envelope<'rtc.push.proactive'>, @Ctx() ctx: RocketMQContext) {
      pushes.push({ envelope, messageGroup: ctx.getMessageGroup(), receivedAt: Date.now() });
    }

    @RocketMQEvent('rtc.push.notice')
    onNotice(@Payload() envelope: Envelope<'rtc.push.notice'>, @Ctx() ctx: RocketMQContext) {
      pushes.push({ envelope, messageGroup: ctx.getMessageGroup(), receivedAt: Date.now() });
    }
  }
  @Module({ controllers: [PushHandlers] })
  class PushModule {}
  const server = new RocketMQServer({ connection: testConnection(namespace), group: CONSUMER_GROUPS.rtcPush.name, logger, metrics: MessagingMetrics.for(new Registry()) });
  pushConsumer = await NestFactory.createMicroservice(PushModule, { logger: false, strategy: server });
  await pushConsumer.listen();
}

const pushesFor = (userId: string, tenantId = TENANT) => pushes.items.filter((p) => p.envelope.data.userId === userId && p.envelope.tenantId === tenantId);

async function decisions(intent: string, outcome: string, reason: string): Promise<number> {
  return (await metrics.decisions.get()).values.filter((v) => v.labels.intent === intent && v.labels.outcome === outcome && v.labels.reason === reason).reduce((sum, v) => sum + v.value, 0);
}

/** Resolves after every shard has been worked at least `times` more times by some replica. */
async function shardPasses(times = 2) {
  const worked = async () => (await metrics.shards.get()).values.find((v) => v.labels.result === 'worked')?.value ?? 0;
  const start = await worked();
  await eventually(async () => (await worked()) >= start + times * SHARDS, `${times} passes over every shard`);
}

let tasks = 0;
/** What an inference worker does at the end of a turn: history first, then `ai.inference.completed`. */
async function conversation(tenantId: string, sessionId: string, userId: string, turns: { role: 'user' | 'assistant'; content: string }[], taskId = `task-${++tasks}`) {
  await history.claim(tenantId, sessionId, `user:${userId}`);
  await history.append(tenantId, sessionId, turns.map((turn) => textItem(turn.role, turn.content)));
  await publisher.publish(
    'ai.inference.completed',
    {
      taskId,
      apiKeyId: 'key-1',
      sessionId,
      userId,
      workerId: 'worker-1',
      model: 'extractive',
      provider: 'extractive',
      usage: { promptTokens: 10, completionTokens: 20, totalTokens: 30 },
      timings: { queueMs: 0, totalMs: 5 },
      finishReason: 'stop',
    },
    { tenantId },
  );
  return { taskId, publishedAt: Date.now() };
}

const BEIJING = [
  { role: 'user' as const, content: 'what are the sights in Beijing?' },
  { role: 'assistant' as const, content: 'The Forbidden City, the Great Wall at Mutianyu and the Temple of Heaven are the classics.' },
];
const HOTEL_TEXT = 'Planning a trip to Beijing? I can suggest hotels in Beijing.';

async function settings(userId: string, body: unknown, key = apiKey) {
  const response = await fetch(`${await schedulers[0]!.getUrl()}/v1/users/${encodeURIComponent(userId)}/proactive-settings`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A user who may be pushed to at any hour (no quiet hours even once a time zone is set). */
const awakeUser = async (name: string) => {
  const userId = uniqueName(name);
  expect((await settings(userId, { quietHours: null })).status).toBe(200);
  return userId;
};

beforeAll(async () => {
  redis = testRedis();
  await provisionNamespace(namespace);
  const started = Date.now();
  ({ embeddings } = await createEmbeddings(embeddingsConfigOf({})));
  process.stderr.write(`[intent-scheduler] embedding model ready in ${Date.now() - started} ms\n`);
  history = new ConversationStore(redis, { prefix });
  publisher = new EventPublisher({ connection: testConnection(namespace), source: 'it', logger, metrics: MessagingMetrics.for(new Registry()) });
  ({ key: apiKey } = await new ApiKeyStore(redis, prefix).create({ tenantId: TENANT }));
  // The run-time catalogue: the default with a short "user just spoke" grace, so the test is quick.
  await new ConfigDocuments(redis, prefix).put('intents', { ...DEFAULT_CATALOGUE, defaults: { ...DEFAULT_CATALOGUE.defaults, userGraceMs: USER_GRACE_MS } });
  await startPushConsumer();
  await Promise.all([startScheduler('replica-a'), startScheduler('replica-b')]);
});

afterAll(async () => {
  await Promise.all(schedulers.map((app) => app.close()));
  await pushConsumer?.close();
  await publisher?.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe('intent-scheduler on the real broker, Redis and embedding model', () => {
  it('a conversation about sights in Beijing leads to one hotel offer for Beijing on the push topic, grouped by user', async () => {
    const userId = await awakeUser('alice');
    const sessionId = uniqueName('session');
    const { publishedAt } = await conversation(TENANT, sessionId, userId, BEIJING);
    await eventually(() => pushesFor(userId).length > 0, 'a push for the user');
    const [push] = pushesFor(userId);
    process.stderr.write(`[intent-scheduler] completed → push on the topic in ${push!.receivedAt - publishedAt} ms (tick ${TICK_MS} ms)\n`);
    expect(push!.envelope).toMatchObject({
      type: 'rtc.push.proactive',
      tenantId: TENANT,
      source: 'intent-scheduler',
      data: { userId, sessionId, intent: 'city_attractions', text: HOTEL_TEXT, slots: { city: 'Beijing' } },
    });
    expect(push!.messageGroup).toBe(userId);

    // Both replicas work shards, and after several more passes there is still exactly one push.
    const workers = new Set<string>();
    await eventually(async () => {
      for (let shard = 0; shard < SHARDS; shard++) {
        const owner = await redis.get(`${prefix}intent:shard:${shard}:fresh`);
        if (owner) workers.add(owner);
      }
      return workers.size === 2;
    }, 'both replicas working shards');
    await shardPasses(3);
    expect(pushesFor(userId)).toHaveLength(1);
  });

  it('the same conversation again inside the cooldown sends nothing, in the same or a new session', async () => {
    const userId = await awakeUser('bob');
    const sessionId = uniqueName('session');
    await conversation(TENANT, sessionId, userId, BEIJING);
    await eventually(() => pushesFor(userId).length === 1, 'the first push');
    const cooldowns = await decisions('city_attractions', 'suppressed', 'cooldown');
    await conversation(TENANT, sessionId, userId, BEIJING);
    await conversation(TENANT, uniqueName('session'), userId, BEIJING);
    await eventually(async () => (await decisions('city_attractions', 'suppressed', 'cooldown')) >= cooldowns + 2, 'two cooldown suppressions');
    await shardPasses(2);
    expect(pushesFor(userId)).toHaveLength(1);
  });

  it('two replicas and many users at once: every user gets exactly one push', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => awakeUser('crowd')));
    await Promise.all(users.map((userId) => conversation(TENANT, uniqueName('session'), userId, BEIJING)));
    await eventually(() => users.every((userId) => pushesFor(userId).length >= 1), 'a push for every user');
    await shardPasses(3);
    expect(users.map((userId) => pushesFor(userId).length)).toEqual(users.map(() => 1));
  });

  it('an opted-out user gets nothing', async () => {
    const userId = uniqueName('optout');
    expect((await settings(userId, { optOut: true, quietHours: null })).status).toBe(200);
    const before = await decisions('city_attractions', 'suppressed', 'opted_out');
    await conversation(TENANT, uniqueName('session'), userId, BEIJING);
    await eventually(async () => (await decisions('city_attractions', 'suppressed', 'opted_out')) > before, 'an opt-out suppression');
    await shardPasses(2);
    expect(pushesFor(userId)).toHaveLength(0);
  });

  it('quiet hours in the user\'s time zone suppress the push, and /metrics says why', async () => {
    const userId = uniqueName('sleeper');
    // Quiet from an hour ago to an hour from now, in Tokyo time.
    const clock = (offsetMs: number) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(Date.now() + offsetMs);
    expect((await settings(userId, { timezone: 'Asia/Tokyo', quietHours: { start: clock(-3_600_000), end: clock(3_600_000) } })).status).toBe(200);
    const before = await decisions('city_attractions', 'suppressed', 'quiet_hours');
    await conversation(TENANT, uniqueName('session'), userId, BEIJING);
    await eventually(async () => (await decisions('city_attractions', 'suppressed', 'quiet_hours')) > before, 'a quiet-hours suppression');
    const exposition = await (await fetch(`${await schedulers[1]!.getUrl()}/metrics`)).text();
    expect(exposition).toMatch(/aip_proactive_decisions_total\{intent="city_attractions",outcome="suppressed",reason="quiet_hours"\} [1-9]/);
    await shardPasses(2);
    expect(pushesFor(userId)).toHaveLength(0);
  });

  it('waits while the user\'s next answer is streaming, and pushes once it is done and the user has had a moment', async () => {
    const userId = await awakeUser('typist');
    const sessionId = uniqueName('session');
    // The user asked again (task 2) right after the first answer (task 1) finished.
    const spokeAt = Date.now();
    await publisher.publish(
      'ai.request.submitted',
      { taskId: 'streaming-2', apiKeyId: 'key-1', sessionId, userId, model: 'extractive', messages: [{ role: 'user', content: 'and the best season?' }], maxTokens: 64, stream: true, deadline: new Date(Date.now() + 60_000).toISOString(), estimatedPromptTokens: 5 },
      { tenantId: TENANT },
    );
    await eventually(async () => (await redis.hget(`${prefix}intent:session:{${TENANT}:${sessionId}}`, 'pendingTaskId')) === 'streaming-2', 'the pending answer recorded');
    const deferred = await decisions('city_attractions', 'deferred', 'streaming');
    await conversation(TENANT, sessionId, userId, BEIJING, 'streaming-1');
    await eventually(async () => (await decisions('city_attractions', 'deferred', 'streaming')) > deferred, 'a deferral while streaming');
    expect(pushesFor(userId)).toHaveLength(0);
    await conversation(TENANT, sessionId, userId, [{ role: 'user', content: 'and the best season?' }, { role: 'assistant', content: 'Autumn.' }], 'streaming-2');
    await eventually(() => pushesFor(userId).length === 1, 'the push after the answer');
    expect(pushesFor(userId)[0]!.envelope.data).toMatchObject({ intent: 'city_attractions', text: HOTEL_TEXT });
    // The user spoke when task 2 was submitted: the push waited the grace from then.
    expect(pushesFor(userId)[0]!.receivedAt - spokeAt).toBeGreaterThanOrEqual(USER_GRACE_MS);
  });

  it('a new document about Beijing notifies the interested users of its tenant, once', async () => {
    const userId = await awakeUser('reader');
    await conversation(TENANT, uniqueName('session'), userId, BEIJING);
    await eventually(() => pushesFor(userId).length === 1, 'the hotel offer');
    const stranger = uniqueName('stranger'); // same interest, other tenant: must hear nothing
    await redis.zadd(`${prefix}intent:interest:{${OTHER_TENANT}}:beijing`, Date.now(), stranger);
    const indexed = { kbId: 'kb1', docId: uniqueName('doc'), version: 'v1', chunks: 4, embedded: 4, reused: 0, durationMs: 12, keywords: ['Beijing', 'hotels'] };
    await publisher.publish('kb.document.indexed', indexed, { tenantId: TENANT });
    await eventually(() => pushesFor(userId).some((p) => p.envelope.type === 'rtc.push.notice'), 'a new-content notice');
    const notice = pushesFor(userId).find((p) => p.envelope.type === 'rtc.push.notice')!;
    expect(notice.envelope.data).toMatchObject({ userId, title: 'New content', text: 'New content about Beijing is available.' });
    expect(notice.messageGroup).toBe(userId);
    // The same document indexed again (a redelivery or a re-run) does not notify twice.
    const duplicates = await decisions('new_content', 'suppressed', 'duplicate');
    await publisher.publish('kb.document.indexed', indexed, { tenantId: TENANT });
    await eventually(async () => (await decisions('new_content', 'suppressed', 'duplicate')) + (await decisions('new_content', 'suppressed', 'cooldown')) > duplicates, 'the second one suppressed');
    expect(pushesFor(userId).filter((p) => p.envelope.type === 'rtc.push.notice')).toHaveLength(1);
    expect(pushesFor(stranger, OTHER_TENANT)).toHaveLength(0);
  });

  it("follows users' data: interests declared in a profile count, a deleted profile leaves none, a deleted conversation leaves no prompt", async () => {
    const userId = uniqueName('profiled');
    const interestsOf = () => redis.zrange(`${prefix}intent:user:{${TENANT}:${userId}}:interests`, 0, -1);
    await publisher.publish('user.profile.updated', { userId, profile: { interests: ['Jazz', 'hiking'] }, revision: 1, updatedAt: new Date().toISOString() }, { tenantId: TENANT });
    await eventually(async () => (await interestsOf()).sort().join() === 'hiking,jazz', 'the profile interests recorded');
    expect(await redis.zscore(`${prefix}intent:interest:{${TENANT}}:jazz`, userId)).not.toBeNull();
    await publisher.publish('user.profile.deleted', { userId, revision: 2, deletedAt: new Date().toISOString() }, { tenantId: TENANT });
    await eventually(async () => (await interestsOf()).length === 0 && (await redis.zscore(`${prefix}intent:interest:{${TENANT}}:jazz`, userId)) === null, 'the interests forgotten');

    // A conversation whose prompt is due is deleted: its state goes, and no prompt comes of it.
    const talker = await awakeUser('deleter');
    const sessionId = uniqueName('session');
    await redis.hset(`${prefix}intent:session:{${TENANT}:${sessionId}}`, 'userId', talker, 'lastActivityAt', Date.now());
    await publisher.publish('conversation.deleted', { conversationId: sessionId, userId: talker, deletedAt: new Date().toISOString() }, { tenantId: TENANT });
    await eventually(async () => (await redis.exists(`${prefix}intent:session:{${TENANT}:${sessionId}}`)) === 0, 'the session state dropped');
  });

  it('settings API: API key required, bad input named, interests shown, tenant from the key', async () => {
    const userId = await awakeUser('settings');
    const url = `${await schedulers[0]!.getUrl()}/v1/users/${userId}/proactive-settings`;
    // The platform's error shape (as access and knowledge-ingest), with the request id.
    const noKey = await fetch(url);
    expect({ status: noKey.status, body: await noKey.json() }).toMatchObject({ status: 401, body: { error: { type: 'authentication_error', code: 'missing_api_key', param: null } } });
    expect(noKey.headers.get('x-request-id')).toBeTruthy();
    const wrongKey = await fetch(url, { headers: { authorization: 'Bearer sk-aip-wrong' } });
    expect({ status: wrongKey.status, body: await wrongKey.json() }).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } });
    const bad = await settings(userId, { timezone: 'Mars/Olympus', quietHours: { start: '9', end: '17:00' } });
    expect(bad).toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error', code: 'invalid_settings', param: 'timezone' } } });
    expect((bad.body['error'] as { message: string }).message).toMatch(/timezone.*IANA.*quietHours\.start/);
    await conversation(TENANT, uniqueName('session'), userId, BEIJING);
    await eventually(() => pushesFor(userId).length === 1, 'the hotel offer');
    const got = (await (await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as Record<string, unknown>;
    expect(got).toMatchObject({ userId, settings: { optOut: false, quietHours: null }, effective: { timezone: 'UTC', quietHours: null, dailyCap: 3 } });
    expect(got['interests']).toEqual(expect.arrayContaining(['beijing', 'city_attractions']));
    // Another tenant's key sees its own (empty) user, not this one.
    const { key: otherKey } = await new ApiKeyStore(redis, prefix).create({ tenantId: OTHER_TENANT });
    const other = (await (await fetch(url, { headers: { authorization: `Bearer ${otherKey}` } })).json()) as Record<string, unknown>;
    expect(other).toMatchObject({ settings: { optOut: false }, interests: [] });
    // A time zone in the user's profile (written by access) is the one in effect when the settings name none.
    await new ProfileStore(redis, { prefix }).put(TENANT, userId, { timeZone: 'Asia/Tokyo' });
    const zoned = (await (await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as Record<string, unknown>;
    expect(zoned).toMatchObject({ settings: { optOut: false }, effective: { timezone: 'Asia/Tokyo' } });
  });

  it('a new catalogue version applies at run time; an invalid one is refused and the last good one stays', async () => {
    const documents = new ConfigDocuments(redis, prefix);
    const changed = {
      ...DEFAULT_CATALOGUE,
      defaults: { ...DEFAULT_CATALOGUE.defaults, userGraceMs: USER_GRACE_MS },
      intents: DEFAULT_CATALOGUE.intents.map((intent) => (intent.id === 'city_attractions' ? { ...intent, prompt: 'Heading to {city}? Want a hotel shortlist for {city}?' } : intent)),
    };
    const { version } = await documents.put('intents', changed);
    const versions = () => schedulers.map((app) => app.get(CatalogueHolder).version);
    await eventually(() => versions().every((v) => v === version), 'both replicas on the new catalogue');
    const refusals = async () => (await metrics.catalogueLoads.get()).values.find((v) => v.labels.result === 'refused')?.value ?? 0;
    const refusedBefore = await refusals();
    await documents.put('intents', { intents: [] }); // invalid
    await eventually(async () => (await refusals()) >= refusedBefore + 2, 'both replicas refusing the invalid version');
    expect(versions()).toEqual([version, version]);
    const userId = await awakeUser('reload');
    await conversation(TENANT, uniqueName('session'), userId, BEIJING);
    await eventually(() => pushesFor(userId).length === 1, 'a push with the new prompt');
    expect(pushesFor(userId)[0]!.envelope.data).toMatchObject({ text: 'Heading to Beijing? Want a hotel shortlist for Beijing?' });
  });
});
