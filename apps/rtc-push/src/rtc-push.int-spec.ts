// Over 400 lines on purpose: one suite starts the rtc-push instances, the broker consumers and the
// key store once for all of its cases (startup dominates their run time); each `describe` is one
// concern of the realtime edge.
import { createHash } from 'node:crypto';
import { ModelCatalog, Moderation } from '@aip/chat-policy';
import { CLOSE_CODES, CONSUMER_GROUPS, REALTIME_TOKEN_PREFIX, realtimeTokenKey, type Envelope, type ServerFrame } from '@aip/contracts';
import { ApiKeyStore } from '@aip/keys';
import { EventPublisher, MessagingMetrics, RocketMQServer, RocketMQEvent } from '@aip/messaging';
import { ConfigDocuments, createRedis, startPlatformApp, type PlatformApp } from '@aip/runtime';
import { deleteKeys, eventually, provisionNamespace, testConnection, testRedis, testRedisUrl, uniqueName, uniqueNamespace } from '@aip/testing';
import { TaskStore } from '@aip/tasks';
import { Controller } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Payload } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { loadRtcEnv } from './rtc.config.ts';
import { appOptions } from './app.options.ts';

const logger = pino({ level: 'silent' });
// Topics and groups of this run's own (the contracts' topology in a namespace): another run's
// instances on the shared broker never take these pushes.
const namespace = uniqueNamespace('rtc-it');
const prefix = `${uniqueName('rtcit')}:`;
let redis: Redis;
let publisher: EventPublisher;
let apiKey: string;
let tenantId: string;
const instances: PlatformApp[] = [];

/** A WebSocket client that records every frame and its close. */
class Client {
  readonly frames: ServerFrame[] = [];
  closed: { code: number; reason: string } | undefined;
  private readonly socket: WebSocket;
  readonly open: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}, protocols: string[] = []) {
    this.socket = new WebSocket(url, protocols, { headers });
    this.socket.on('message', (data) => this.frames.push(JSON.parse(String(data)) as ServerFrame));
    this.socket.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
    this.socket.on('error', () => undefined);
    this.open = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
  }

  send(frame: unknown) {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  pushes() {
    return this.frames.filter((f): f is Extract<ServerFrame, { type: 'push' }> => f.type === 'push');
  }

  of<T extends ServerFrame['type']>(type: T) {
    return this.frames.filter((f): f is Extract<ServerFrame, { type: T }> => f.type === type);
  }

  async waitFor(predicate: (client: this) => boolean, what: string, timeoutMs = 20_000) {
    await eventually(() => predicate(this), what, timeoutMs);
  }

  async hello(lastPushId?: string) {
    await this.open;
    this.send({ type: 'hello', v: 1, ...(lastPushId ? { lastPushId } : {}) });
    await this.waitFor((c) => c.of('welcome').length > 0, 'welcome');
  }

  close() {
    this.socket.close();
  }

  raw() {
    return this.socket;
  }
}

const clients: Client[] = [];
function connect(instance: PlatformApp, user: string, options: { token?: string; headers?: Record<string, string> } = {}) {
  const query = options.token !== undefined ? `token=${options.token}` : `user=${encodeURIComponent(user)}`;
  const client = new Client(`ws://127.0.0.1:${instance.port}/v1/ws?${query}`, options.token !== undefined ? {} : { authorization: `Bearer ${apiKey}`, ...options.headers });
  clients.push(client);
  return client;
}

async function start(instanceId: string, extra: Record<string, string> = {}) {
  const env = loadRtcEnv({
    ROCKETMQ_ENDPOINTS: testConnection().endpoints, REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix, PORT: '0', RTC_INSTANCE_ID: instanceId,
    ROCKETMQ_NAMESPACE: namespace, RESEND_AFTER_MS: '400', WEB_DIR: '/nonexistent', LOG_LEVEL: 'silent', DRAIN_TIMEOUT_MS: '2000', ...extra,
  });
  const running = await startPlatformApp(appOptions(env, { redis: createRedis(env.REDIS_URL, logger), logger }, { host: '127.0.0.1' }));
  instances.push(running);
  return running;
}

let seq = 0;
async function publishPush(user: string, text = `hello ${++seq}`, dedupeKey = `d-${user}-${seq}-${Date.now()}`) {
  await publisher.publish('rtc.push.proactive', { userId: user, intent: 'hotel.suggest', text, slots: {}, dedupeKey }, { tenantId });
}

let a: PlatformApp;
let b: PlatformApp;

beforeAll(async () => {
  redis = testRedis();
  await provisionNamespace(namespace);
  publisher = new EventPublisher({ connection: testConnection(namespace), source: 'it', logger, metrics: MessagingMetrics.for(new Registry()) });
  tenantId = uniqueName('tenant');
  apiKey = (await new ApiKeyStore(redis, prefix).create({ tenantId })).key;
  a = await start('it-a');
  b = await start('it-b');
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.close()));
  await publisher.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

const user = () => uniqueName('user');

describe('rtc-push on the real broker and Redis', () => {
  it('delivers a push published on the central topic over the socket, re-sends it until acked, then stops', async () => {
    const u = user();
    const client = connect(a, u);
    await client.hello();
    await publishPush(u, 'hotels near the Forbidden City?');
    await client.waitFor((c) => c.pushes().length >= 2, 'a re-send of the unacked push');
    const [first, again] = client.pushes();
    expect(first).toMatchObject({ kind: 'proactive', intent: 'hotel.suggest', text: 'hotels near the Forbidden City?', seq: 1, redelivery: 0 });
    expect(again).toMatchObject({ id: first!.id, redelivery: 1 });

    client.send({ type: 'ack', ids: [first!.id] });
    await eventually(async () => (await redis.xlen(`${prefix}rtc:{${tenantId}:${u}}:inbox`)) === 0, 'the ack to empty the inbox');
    const seen = client.pushes().length;
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // three resend intervals
    expect(client.pushes()).toHaveLength(seen);
  });

  it('keeps pushes for an offline user and delivers them on connect, in order; a duplicate dedupeKey is stored once', async () => {
    const u = user();
    await publishPush(u, 'one');
    await publishPush(u, 'two', 'same-key');
    await publishPush(u, 'two again', 'same-key');
    await publishPush(u, 'three');
    await eventually(async () => (await redis.xlen(`${prefix}rtc:{${tenantId}:${u}}:inbox`)) === 3, '3 pushes in the inbox');
    const client = connect(b, u);
    await client.hello();
    expect(client.of('welcome')[0]).toMatchObject({ pending: 3, userId: u });
    await client.waitFor((c) => c.pushes().length >= 3, '3 pushes');
    expect(client.pushes().slice(0, 3).map((p) => [p.text, p.seq])).toEqual([['one', 1], ['two', 2], ['three', 3]]);
  });

  it('on reconnect with the last id sends only what was missed', async () => {
    const u = user();
    const first = connect(a, u);
    await first.hello();
    await publishPush(u, 'p1');
    await publishPush(u, 'p2');
    await first.waitFor((c) => c.pushes().length >= 2, 'two pushes');
    const lastSeen = first.pushes()[1]!.id; // seen but never acked: the resume acks it
    first.close();
    await eventually(() => first.closed !== undefined, 'close');
    await publishPush(u, 'p3');
    await publishPush(u, 'p4');
    await eventually(async () => (await redis.xlen(`${prefix}rtc:{${tenantId}:${u}}:inbox`)) === 4, '4 pushes stored');

    const second = connect(b, u);
    await second.hello(lastSeen);
    await second.waitFor((c) => c.pushes().length >= 2, 'the missed pushes');
    expect(second.pushes().filter((p) => p.redelivery === 0).map((p) => p.text)).toEqual(['p3', 'p4']);
  });

  it('with users on two instances, each push reaches exactly its user, once, in order', async () => {
    const [u1, u2] = [user(), user()];
    const c1 = connect(a, u1);
    const c2 = connect(b, u2);
    await Promise.all([c1.hello(), c2.hello()]);
    for (let i = 1; i <= 6; i++) {
      await publishPush(u1, `u1-${i}`);
      await publishPush(u2, `u2-${i}`);
    }
    await c1.waitFor((c) => c.pushes().length >= 6, 'u1 pushes');
    await c2.waitFor((c) => c.pushes().length >= 6, 'u2 pushes');
    for (const [client, name] of [[c1, 'u1'], [c2, 'u2']] as const) {
      const firsts = client.pushes().filter((p) => p.redelivery === 0);
      expect(firsts.map((p) => p.text)).toEqual([1, 2, 3, 4, 5, 6].map((i) => `${name}-${i}`));
      expect(firsts.map((p) => p.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it('answers bad input with error frames and close codes, and keeps serving others', async () => {
    const u = user();
    const bystander = connect(a, user());
    await bystander.hello();
    const client = connect(a, u);
    await client.hello();
    client.send('{not json');
    client.send({ type: 'subscribe' });
    client.send({ type: 'ack', ids: [] });
    client.send({ type: 'ping', t: 7 });
    await client.waitFor((c) => c.of('pong').length === 1, 'pong');
    expect(client.of('error').map((e) => e.code)).toEqual(['invalid_json', 'unknown_type', 'invalid_frame']);
    expect(client.of('pong')[0]).toEqual({ type: 'pong', t: 7 });

    client.send(JSON.stringify({ type: 'chat', ref: 'big', text: 'x'.repeat(70_000) }));
    await eventually(() => client.closed !== undefined, 'oversized frame to close the socket');
    expect(client.closed!.code).toBe(CLOSE_CODES.tooBig);

    const wrongToken = connect(a, u, { token: `${REALTIME_TOKEN_PREFIX}nope` });
    await eventually(() => wrongToken.closed !== undefined, 'wrong token to be refused');
    expect(wrongToken.closed!.code).toBe(CLOSE_CODES.unauthorized);
    expect(wrongToken.of('error')[0]).toMatchObject({ code: 'unauthorized' });

    const expired = `${REALTIME_TOKEN_PREFIX}expired-${Date.now()}`;
    await redis.set(realtimeTokenKey(prefix, createHash('sha256').update(expired).digest('hex')), JSON.stringify({ tenantId, keyId: 'k', userId: u, expiresAt: Date.now() - 1 }), 'PX', 60_000);
    const expiredClient = connect(a, u, { token: expired });
    await eventually(() => expiredClient.closed !== undefined, 'expired token to be refused');
    expect(expiredClient.closed!.code).toBe(CLOSE_CODES.unauthorized);

    const noUser = new Client(`ws://127.0.0.1:${a.port}/v1/ws`, { authorization: `Bearer ${apiKey}` });
    clients.push(noUser);
    await eventually(() => noUser.closed !== undefined, 'API key without user to be refused');
    expect(noUser.closed!.code).toBe(CLOSE_CODES.unauthorized);

    bystander.send({ type: 'ping', t: 'still here' });
    await bystander.waitFor((c) => c.of('pong').length === 1, 'the bystander to be served');
  });

  it('accepts a valid short-lived token bound to its user and ignores a user parameter', async () => {
    const u = user();
    const keyId = (await new ApiKeyStore(redis, prefix).authenticate(apiKey))!.id;
    const token = `${REALTIME_TOKEN_PREFIX}ok-${Date.now()}`;
    await redis.set(realtimeTokenKey(prefix, createHash('sha256').update(token).digest('hex')), JSON.stringify({ tenantId, keyId, userId: u, expiresAt: Date.now() + 60_000 }), 'PX', 60_000);
    const client = new Client(`ws://127.0.0.1:${b.port}/v1/ws?token=${token}&user=someone-else`);
    clients.push(client);
    await client.hello();
    expect(client.of('welcome')[0]).toMatchObject({ userId: u });
  });

  it('serves pushes over SSE and resumes after Last-Event-ID', async () => {
    const u = user();
    for (const text of ['s1', 's2', 's3']) await publishPush(u, text);
    await eventually(async () => (await redis.xlen(`${prefix}rtc:{${tenantId}:${u}}:inbox`)) === 3, 'three stored');
    const read = async (lastEventId?: string) => {
      const abort = new AbortController();
      const response = await fetch(`http://127.0.0.1:${a.port}/v1/sse?user=${u}`, { headers: { authorization: `Bearer ${apiKey}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal: abort.signal });
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const reader = response.body!.getReader();
      let text = '';
      const events: { id?: string; event?: string; data: ServerFrame }[] = [];
      while (!events.some((e) => e.event === 'push' && (e.data as { text: string }).text === 's3')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
        const blocks = text.split('\n\n');
        text = blocks.pop()!;
        for (const block of blocks) {
          const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
          if (fields['data']) events.push({ id: fields['id'], event: fields['event'], data: JSON.parse(fields['data']) as ServerFrame });
        }
      }
      abort.abort();
      return events;
    };
    const all = await read();
    const pushes = all.filter((e) => e.event === 'push');
    expect(pushes.map((e) => (e.data as { text: string }).text)).toEqual(['s1', 's2', 's3']);
    expect(pushes.every((e) => e.id === (e.data as { id: string }).id)).toBe(true);

    const resumed = await read(pushes[0]!.id);
    expect(resumed.filter((e) => e.event === 'push').map((e) => (e.data as { text: string }).text)).toEqual(['s2', 's3']);

    const acked = await fetch(`http://127.0.0.1:${a.port}/v1/ack?user=${u}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ ids: [pushes[1]!.id] }) });
    expect(acked.status).toBe(204);
    expect(await redis.xlen(`${prefix}rtc:{${tenantId}:${u}}:inbox`)).toBe(1);
    const unauthorized = await fetch(`http://127.0.0.1:${a.port}/v1/sse?user=${u}`);
    expect(unauthorized.status).toBe(401);
  });

  it('answers every bad input on the HTTP routes with a 4xx in the platform error shape, never a 500', async () => {
    const u = user();
    const auth = { authorization: `Bearer ${apiKey}` };
    const json = { ...auth, 'content-type': 'application/json' };
    const cases: [path: string, init: RequestInit, status: number, code?: string][] = [
      // Matches the contract's pattern (20 digits) but is not a Redis stream id: used to reach Redis and answer 500.
      [`/v1/sse?user=${u}`, { headers: { ...auth, 'last-event-id': '99999999999999999999-0' } }, 400, 'invalid_frame'],
      [`/v1/sse?user=${u}`, { headers: { ...auth, 'last-event-id': '9'.repeat(4_000) } }, 400, 'invalid_frame'],
      [`/v1/sse?user=${u}&lastEventId=1-18446744073709551616`, { headers: auth }, 400, 'invalid_frame'],
      [`/v1/sse?token=rtt_a&token=rtt_b`, {}, 400, 'invalid_frame'],
      [`/v1/sse?user=${u}&user=other`, { headers: auth }, 400, 'invalid_frame'],
      ['/v1/sse', {}, 401, 'unauthorized'],
      [`/v1/ack?user=${u}`, { method: 'POST', headers: json, body: JSON.stringify({ upTo: '99999999999999999999-0' }) }, 400, 'invalid_frame'],
      [`/v1/ack?user=${u}`, { method: 'POST', headers: json, body: JSON.stringify({ ids: ['1-0', '1-18446744073709551616'] }) }, 400, 'invalid_frame'],
      [`/v1/ack?user=${u}`, { method: 'POST', headers: json, body: '{not json' }, 400, 'invalid_json'],
      [`/v1/chat?user=${u}`, { method: 'POST', headers: json, body: JSON.stringify({ ref: 'c' }) }, 400, 'invalid_frame'],
      ['/v1/nowhere', {}, 404],
    ];
    for (const [path, init, status, code] of cases) {
      const response = await fetch(`http://127.0.0.1:${a.port}${path}`, init);
      const body = (await response.json()) as { error?: Record<string, unknown> };
      expect({ path, status: response.status }).toEqual({ path, status });
      expect(Object.keys(body.error ?? {}).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(body.error).toMatchObject({ message: expect.any(String), type: expect.any(String), ...(code ? { code } : {}) });
      expect(response.headers.get('x-request-id')).toBeTruthy();
    }
    // The largest id there is acks everything (its successor used to overflow into an invalid id).
    const all = await fetch(`http://127.0.0.1:${a.port}/v1/ack?user=${u}`, { method: 'POST', headers: json, body: JSON.stringify({ upTo: '18446744073709551615-18446744073709551615' }) });
    expect(all.status).toBe(204);
  });

  it('submits a chat frame as ai.request.submitted and relays the task stream as delta/sources/done frames', async () => {
    const submitted: Envelope<'ai.request.submitted'>[] = [];
    @Controller()
    class Spy {
      @RocketMQEvent('ai.request.submitted')
      onSubmitted(@Payload() event: Envelope<'ai.request.submitted'>) {
        submitted.push(event);
      }
    }
    const { Module } = await import('@nestjs/common');
    @Module({ controllers: [Spy] })
    class SpyModule {}
    // The namespace's rate-limiter group: no limiter runs in this namespace, the spy stands in for it.
    const spy = await NestFactory.createMicroservice(SpyModule, { strategy: new RocketMQServer({ connection: testConnection(namespace), group: CONSUMER_GROUPS.rateLimiter.name, logger }), logger: false });
    await spy.listen();
    try {
      const u = user();
      const client = connect(a, u);
      await client.hello();
      client.send({ type: 'chat', ref: 'c1', text: 'sights in Beijing?', sessionId: 's-1' });
      await client.waitFor((c) => c.of('accepted').length === 1, 'accepted');
      const { taskId } = client.of('accepted')[0]!;
      await eventually(() => submitted.some((e) => e.data.taskId === taskId), 'ai.request.submitted on the broker', 30_000);
      expect(submitted.find((e) => e.data.taskId === taskId)!).toMatchObject({ tenantId, data: { userId: u, sessionId: 's-1', model: 'extractive', stream: true, messages: [{ role: 'user', content: 'sights in Beijing?' }] } });

      const tasks = new TaskStore(redis, { prefix });
      await tasks.append(taskId, [{ type: 'delta', text: 'The Forbidden ' }, { type: 'delta', text: 'City.' }]);
      await tasks.finish(taskId, 'completed', {}, { type: 'done', usage: { promptTokens: 3, completionTokens: 4, totalTokens: 7 }, finishReason: 'stop', model: 'extractive', sources: [{ docId: 'beijing.md' }] });
      await client.waitFor((c) => c.of('done').length === 1, 'done');
      expect(client.of('delta').map((d) => d.text).join('')).toBe('The Forbidden City.');
      expect(client.of('sources')[0]).toMatchObject({ ref: 'c1', taskId, sources: [{ docId: 'beijing.md' }] });
      expect(client.of('done')[0]).toMatchObject({ ref: 'c1', taskId, finishReason: 'stop', usage: { totalTokens: 7 } });

      client.send({ type: 'chat', ref: 'c2', text: 'x', model: 'gpt-unknown' });
      await client.waitFor((c) => c.of('error').some((e) => e.ref === 'c2'), 'unknown model error');
      expect(client.of('error').find((e) => e.ref === 'c2')).toMatchObject({ code: 'model_not_found' });
    } finally {
      await spy.close();
    }
  });

  it("applies access's words and routing documents without a restart: blocked words refused, new models served", async () => {
    const documents = new ConfigDocuments(redis, prefix);
    const client = connect(b, user());
    await client.hello();
    client.send({ type: 'chat', ref: 'before', text: 'x', model: 'gpt-it' });
    await client.waitFor((c) => c.of('error').some((e) => e.ref === 'before'), 'the unknown model to be refused');
    expect(client.of('error').find((e) => e.ref === 'before')).toMatchObject({ code: 'model_not_found' });

    await documents.put('words', { words: ['darn'], input: 'block' });
    await documents.put('routing', { models: { extractive: { providers: [{ name: 'extractive', kind: 'extractive' }] }, 'gpt-it': { providers: [{ name: 'gpt-it', kind: 'extractive' }] } } });
    await eventually(() => b.app.get(Moderation).filter.size === 1 && b.app.get(ModelCatalog).aliases.includes('gpt-it'), 'both documents applied', 10_000);
    try {
      client.send({ type: 'chat', ref: 'blocked', text: 'oh Ｄ\u200bＡＲＮ' });
      client.send({ type: 'chat', ref: 'served', text: 'hello', model: 'gpt-it' });
      await client.waitFor((c) => c.of('error').some((e) => e.ref === 'blocked') && c.of('accepted').some((e) => e.ref === 'served'), 'the blocked chat refused and the new model accepted');
      expect(client.of('error').find((e) => e.ref === 'blocked')).toMatchObject({ code: 'content_policy_violation' });
    } finally {
      await documents.put('words', { words: [], input: 'block' });
    }
  });

  describe('realtime tokens and per-key bounds', () => {
    let edge: PlatformApp;
    let keys: ApiKeyStore;
    beforeAll(async () => {
      edge = await start('it-limits', { MAX_CONNECTIONS_PER_KEY: '2', MAX_CHATS_PER_USER: '1', REVALIDATE_INTERVAL_MS: '200' });
      keys = new ApiKeyStore(redis, prefix);
    });

    /** A token as access issues it: claims and grant under the token's sha256. */
    async function issueToken(keyId: string, userId: string, ttlMs = 60_000) {
      const token = `${REALTIME_TOKEN_PREFIX}${uniqueName('tok')}`;
      const claims = { tenantId, keyId, userId, expiresAt: Date.now() + ttlMs, models: ['extractive'], maxTokens: 256 };
      await redis.set(realtimeTokenKey(prefix, createHash('sha256').update(token).digest('hex')), JSON.stringify(claims), 'PX', 60_000);
      return token;
    }

    it('accepts the token as a WebSocket subprotocol and as a Bearer header, out of the URL, and never echoes it', async () => {
      const { record } = await keys.create({ tenantId });
      const u = user();
      const token = await issueToken(record.id, u);
      const client = new Client(`ws://127.0.0.1:${edge.port}/v1/ws`, {}, ['aip.v1', `aip.token.${token}`]);
      clients.push(client);
      await client.hello();
      expect(client.of('welcome')[0]).toMatchObject({ userId: u });
      expect(client.raw().protocol).toBe('aip.v1');
      client.close();

      const abort = new AbortController();
      const response = await fetch(`http://127.0.0.1:${edge.port}/v1/sse`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
      expect(response.status).toBe(200);
      abort.abort();
    });

    it('caps the connections of one API key however many users it names (4429)', async () => {
      const { key } = await keys.create({ tenantId });
      const open = [user(), user()].map((u) => new Client(`ws://127.0.0.1:${edge.port}/v1/ws?user=${u}`, { authorization: `Bearer ${key}` }));
      clients.push(...open);
      await Promise.all(open.map((c) => c.hello()));
      const third = new Client(`ws://127.0.0.1:${edge.port}/v1/ws?user=${user()}`, { authorization: `Bearer ${key}` });
      clients.push(third);
      await eventually(() => third.closed !== undefined, 'the third connection of the key to be refused');
      expect(third.closed!.code).toBe(CLOSE_CODES.tooManyConnections);
      const sse = await fetch(`http://127.0.0.1:${edge.port}/v1/sse?user=${user()}`, { headers: { authorization: `Bearer ${key}` } });
      expect(sse.status).toBe(429);
      expect(((await sse.json()) as { error: { code: string } }).error.code).toBe('too_many_connections');
    });

    it('caps running SSE chats per user', async () => {
      const { key } = await keys.create({ tenantId });
      const u = user();
      const abort = new AbortController();
      const chat = (ref: string, signal?: AbortSignal) => fetch(`http://127.0.0.1:${edge.port}/v1/chat?user=${u}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ ref, text: 'hi' }), ...(signal ? { signal } : {}) });
      const first = await chat('one', abort.signal);
      expect(first.status).toBe(200); // streaming: nobody answers it here, it stays running
      const second = await chat('two');
      expect(second.status).toBe(429);
      expect(((await second.json()) as { error: { code: string } }).error.code).toBe('too_many_chats');
      abort.abort();
    });

    it('closes open connections with 4401 when their token expires or their key is revoked', async () => {
      const { record, key } = await keys.create({ tenantId });
      const expiring = new Client(`ws://127.0.0.1:${edge.port}/v1/ws?token=${await issueToken(record.id, user(), 1_500)}`);
      const backend = new Client(`ws://127.0.0.1:${edge.port}/v1/ws?user=${user()}`, { authorization: `Bearer ${key}` });
      clients.push(expiring, backend);
      await Promise.all([expiring.hello(), backend.hello()]);
      await eventually(() => expiring.closed !== undefined, 'the expired token to be closed', 10_000);
      expect(expiring.closed!.code).toBe(CLOSE_CODES.unauthorized);
      expect(expiring.of('error').at(-1)).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('expired') });
      expect(backend.closed).toBeUndefined();

      await keys.revoke(record.id);
      await eventually(() => backend.closed !== undefined, 'the revoked key to be closed', 10_000);
      expect(backend.closed!.code).toBe(CLOSE_CODES.unauthorized);
      expect(backend.of('error').at(-1)).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('revoked') });
    });
  });

  it('closes sockets with 1001 on shutdown', async () => {
    const c = await start('it-c');
    const client = connect(c, user());
    await client.hello();
    await c.close();
    instances.splice(instances.indexOf(c), 1);
    await eventually(() => client.closed !== undefined, 'close on shutdown');
    expect(client.closed!.code).toBe(CLOSE_CODES.goingAway);
  });
});
