// Over 400 lines on purpose: the transport's cases share one broker connection and Redis; the
// outage cases at the end need the same apps to outlive a broker they stop and start.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, Socket, type Server as NetServer } from 'node:net';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { createEnvelope, laneGroup, type Envelope } from '@aip/contracts';
import { Collector, deadLetters, eventually, provisionBroker, testConnection, testRedis, uniqueName } from '@aip/testing';
import { Producer } from 'rocketmq-client-nodejs';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import {
  BrokerHealth,
  BrokerProbe,
  EventPublisher,
  IdempotencyStore,
  MessagingMetrics,
  PublishError,
  RocketMQContext,
  RocketMQEvent,
  RocketMQServer,
  type RocketMQConnectionOptions,
  type RocketMQServerOptions,
} from './index.ts';

// Every scenario gets its own topic and consumer group, so no test sees another's messages.
type Deleted = Envelope<'kb.document.deleted'>;
type Behaviour = (event: Deleted, ctx: RocketMQContext) => Promise<void> | void;

const logger = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });
const LEASE_MS = 10_000; // the proxy's minimum invisible duration
const apps: INestMicroservice[] = [];
const publishers: EventPublisher[] = [];
let redis: Redis;

function scenario(name: string, options: { maxAttempts?: number; fifo?: boolean; lanes?: number } = {}) {
  return { topic: uniqueName(`it-${name}`), group: uniqueName(`it-${name}`), fifo: options.fifo ?? false, maxAttempts: options.maxAttempts ?? 16, lanes: options.lanes ?? 0 };
}

const scenarios = {
  basic: scenario('basic'),
  retry: scenario('retry'),
  dlq: scenario('dlq', { maxAttempts: 2 }),
  poison: scenario('poison'),
  concurrency: scenario('concurrency'),
  lease: scenario('lease'),
  crash: scenario('crash'),
  fifo: scenario('fifo', { fifo: true }),
  idempotency: scenario('idem'),
  shutdown: scenario('shutdown'),
  outage: scenario('outage'),
  lanes: scenario('lanes', { lanes: 2 }),
};
type Scenario = (typeof scenarios)[keyof typeof scenarios];

beforeAll(async () => {
  redis = testRedis();
  const all = Object.values(scenarios);
  await provisionBroker(
    all.map((s) => ({ name: s.topic, messageType: s.fifo ? 'FIFO' : 'NORMAL' })),
    all.flatMap((s) => [s.group, ...Array.from({ length: s.lanes }, (_, lane) => laneGroup(s.group, lane))].map((name) => ({ name, orderly: s.fifo, retryMaxTimes: s.maxAttempts - 1 }))),
  );
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(publishers.splice(0).map((publisher) => publisher.close()));
});

afterAll(async () => {
  redis.disconnect();
});

function publisher(connection: RocketMQConnectionOptions = testConnection(), sendTimeoutMs?: number) {
  const instance = new EventPublisher({ connection, source: 'it', logger, metrics: MessagingMetrics.for(new Registry()), ...(sendTimeoutMs ? { sendTimeoutMs } : {}) });
  publishers.push(instance);
  return instance;
}

function publishDeleted(s: Scenario, docId: string, via = publisher(), lane?: number) {
  return via.publish('kb.document.deleted', { kbId: 'kb', docId }, { tenantId: 'acme', topic: s.topic, ...(lane === undefined ? {} : { lane }) });
}

/** A FIFO event: the message group is `kb:{docId}`, the content carries the sequence number. */
function publishFifo(s: Scenario, docId: string, sequence: number, via = publisher()) {
  return via.publish('kb.change.upsert', { kbId: 'kb', docId, mediaType: 'text/plain', content: String(sequence) }, { tenantId: 'acme', topic: s.topic });
}

async function startConsumer(s: Scenario, behaviour: Behaviour, options: Partial<RocketMQServerOptions> & { concurrency?: number } = {}) {
  @Controller()
  class Handlers {
    @RocketMQEvent('kb.document.deleted', { topic: s.topic, maxAttempts: s.maxAttempts, lanes: s.lanes })
    onDeleted(@Payload() event: Deleted, @Ctx() ctx: RocketMQContext) {
      return behaviour(event, ctx);
    }
  }
  @Module({ controllers: [Handlers] })
  class TestModule {}
  const server = new RocketMQServer({
    connection: testConnection(),
    group: s.group,
    leaseMs: LEASE_MS,
    backoff: { initialMs: 1_000, multiplier: 1, maxMs: 1_000 },
    logger,
    metrics: MessagingMetrics.for(new Registry()),
    ...options,
  });
  const app = await NestFactory.createMicroservice(TestModule, { logger: process.env['LOG_LEVEL'] ? ['error', 'warn'] : false, strategy: server });
  await app.listen();
  apps.push(app);
  return { app, server };
}

describe('RocketMQ transport on a real broker', () => {
  it('routes a message published to a lane to the one instance following that lane, and the rest to the shared group', async () => {
    const s = scenarios.lanes;
    const handled = new Collector<{ by: string; docId: string; tag: string | undefined }>();
    const instance = (by: string) => startConsumer(s, (event, ctx) => handled.push({ by, docId: event.data.docId, tag: ctx.getTag() }));
    const [a, b] = [await instance('a'), await instance('b')];
    const laneA = a.server.followLane(0);
    b.server.followLane(1);
    const via = publisher();
    for (let i = 0; i < 3; i++) {
      await publishDeleted(s, `to-a-${i}`, via, 0);
      await publishDeleted(s, `to-b-${i}`, via, 1);
      await publishDeleted(s, `anyone-${i}`, via);
    }
    const seen = await handled.count(9);
    for (const { by, docId, tag } of seen) {
      if (docId.startsWith('to-a')) expect({ docId, by }).toEqual({ docId, by: 'a' });
      if (docId.startsWith('to-b')) expect({ docId, by }).toEqual({ docId, by: 'b' });
      expect(tag).toMatch(/^deleted(@lane-\d)?$/);
    }
    expect(new Set(seen.map((h) => h.docId)).size).toBe(9);
    // a stops following lane 0: what is routed there waits in the lane, for whoever follows it next.
    await laneA.stop();
    await publishDeleted(s, 'left-in-lane-0', via, 0);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(handled.items.map((h) => h.docId)).not.toContain('left-in-lane-0');
    b.server.followLane(0);
    const [late] = (await handled.count(10)).slice(9);
    expect(late).toMatchObject({ by: 'b', docId: 'left-in-lane-0' });
  }, 60_000);

  it('delivers a published event to its @RocketMQEvent handler as a validated envelope, once', async () => {
    const s = scenarios.basic;
    const received = new Collector<{ event: Deleted; attempt: number; topic: string; tag: string | undefined }>();
    await startConsumer(s, (event, ctx) => received.push({ event, attempt: ctx.getDeliveryAttempt(), topic: ctx.getTopic(), tag: ctx.getTag() }));
    const { envelope } = await publishDeleted(s, 'doc-1');
    const [first] = await received.count(1);
    expect(first).toEqual({ event: envelope, attempt: 1, topic: s.topic, tag: 'deleted' });
  });

  it('retries a failing handler with backoff and acks once it succeeds', async () => {
    const s = scenarios.retry;
    const attempts = new Collector<{ attempt: number; at: number }>();
    await startConsumer(s, (_event, ctx) => {
      attempts.push({ attempt: ctx.getDeliveryAttempt(), at: Date.now() });
      if (ctx.getDeliveryAttempt() < 3) throw new Error('transient failure');
    });
    await publishDeleted(s, 'doc-1');
    const seen = await attempts.count(3);
    expect(seen.map((a) => a.attempt)).toEqual([1, 2, 3]);
    // Retried after the backoff (1 s), not after the 10 s lease.
    expect(seen[1]!.at - seen[0]!.at).toBeLessThan(LEASE_MS);
    // Acked: no fourth delivery even after the lease would have expired.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 2_000));
    expect(attempts.items).toHaveLength(3);
  });

  it('moves a message to the dead-letter topic after the group\'s max attempts', async () => {
    const s = scenarios.dlq;
    const attempts = new Collector<number>();
    await startConsumer(s, (_event, ctx) => {
      attempts.push(ctx.getDeliveryAttempt());
      throw new Error('always fails');
    });
    const { envelope } = await publishDeleted(s, 'doc-dead');
    const [dead] = await deadLetters(s.group, 1);
    expect(dead).toMatchObject({ originalTopic: s.topic, tag: 'deleted', userProperties: { 'aip-event-id': envelope.id } });
    expect(attempts.items).toEqual([1, 2]);
  });

  it('dead-letters a body that fails its schema at once, without calling the handler', async () => {
    const s = scenarios.poison;
    const calls = new Collector<string>();
    await startConsumer(s, (event) => calls.push(event.id));
    const raw = new Producer({ endpoints: testConnection().endpoints, namespace: '', logger: { info() {}, warn() {}, error() {} } });
    await raw.startup();
    try {
      const bad = { ...createEnvelope('kb.document.deleted', { kbId: 'kb', docId: 'd' }, { source: 'it', tenantId: 'acme' }), data: { kbId: 'kb' } };
      await raw.send({ topic: s.topic, tag: 'deleted', body: Buffer.from(JSON.stringify(bad)) });
      await raw.send({ topic: s.topic, tag: 'deleted', body: Buffer.from('not json at all') });
      const started = Date.now();
      const dead = await deadLetters(s.group, 2, 30_000);
      expect(dead.map((d) => d.bodyPreview)).toEqual(expect.arrayContaining([expect.stringContaining(bad.id), 'not json at all']));
      expect(dead.every((d) => d.reconsumeTimes <= 1)).toBe(true);
      expect(Date.now() - started).toBeLessThan(LEASE_MS); // no waiting for retries
      // A valid event behind the poison ones is still handled.
      const { envelope } = await publishDeleted(s, 'doc-ok');
      await calls.count(1);
      expect(calls.items).toEqual([envelope.id]);
    } finally {
      await raw.shutdown();
    }
  });

  it('runs at most `concurrency` handlers at once and never holds more messages than that', async () => {
    const s = scenarios.concurrency;
    let active = 0;
    let maxActive = 0;
    const done = new Collector<string>();
    const { server } = await startConsumer(s, async (event) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setTimeout(resolve, 300));
      active--;
      done.push(event.data.docId);
    }, { concurrency: 2 });
    let maxHeld = 0;
    const sampler = setInterval(() => (maxHeld = Math.max(maxHeld, server.inFlight)), 5);
    const via = publisher();
    await Promise.all(Array.from({ length: 8 }, (_, i) => publishDeleted(s, `doc-${i}`, via)));
    await done.count(8);
    clearInterval(sampler);
    expect(maxActive).toBe(2);
    expect(maxHeld).toBeLessThanOrEqual(2);
  });

  it('extends the lease of a long handler so the message is not redelivered meanwhile', async () => {
    const s = scenarios.lease;
    const deliveries = new Collector<number>();
    await startConsumer(s, async (_event, ctx) => {
      deliveries.push(ctx.getDeliveryAttempt());
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 2.5));
    });
    await publishDeleted(s, 'doc-slow');
    await deliveries.count(1);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 2.5 + 1_000));
    expect(deliveries.items).toEqual([1]);
  });

  it('hands the message of a consumer killed with SIGKILL to another consumer after the lease', async () => {
    const s = scenarios.crash;
    const child: ChildProcess = spawn(process.execPath, [new URL('../test/hanging-consumer.mjs', import.meta.url).pathname, testConnection().endpoints, s.group, s.topic, String(LEASE_MS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = new Collector<string>();
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).forEach((line) => lines.push(line)));
    try {
      await lines.count(1);
      const { messageId } = await publishDeleted(s, 'doc-crash');
      await eventually(() => lines.items.includes(`received ${messageId}`), 'the child to take the message');
      const killedAt = Date.now();
      child.kill('SIGKILL');
      const redelivered = new Collector<{ attempt: number; at: number }>();
      await startConsumer(s, (_event, ctx) => redelivered.push({ attempt: ctx.getDeliveryAttempt(), at: Date.now() }));
      const [again] = await redelivered.count(1, LEASE_MS * 4);
      expect(again!.attempt).toBe(2);
      expect(again!.at - killedAt).toBeLessThan(LEASE_MS * 3);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('handles each FIFO message group strictly in order while different groups run in parallel', async () => {
    const s = scenarios.fifo;
    const seen = new Collector<{ docId: string; sequence: string }>();
    let active = 0;
    let maxActive = 0;
    @Controller()
    class FifoHandlers {
      @RocketMQEvent('kb.change.upsert', { topic: s.topic })
      async onUpsert(@Payload() event: Envelope<'kb.change.upsert'>) {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 40));
        seen.push({ docId: event.data.docId, sequence: event.data.content ?? '' });
        active--;
      }
    }
    @Module({ controllers: [FifoHandlers] })
    class FifoModule {}
    const app = await NestFactory.createMicroservice(FifoModule, {
      logger: false,
      strategy: new RocketMQServer({ connection: testConnection(), group: s.group, leaseMs: LEASE_MS, logger, metrics: MessagingMetrics.for(new Registry()) }),
    });
    await app.listen();
    apps.push(app);
    const via = publisher();
    const groups = ['a', 'b', 'c', 'd'];
    for (let i = 0; i < 6; i++) for (const g of groups) await publishFifo(s, g, i, via);
    await seen.count(24, 60_000);
    for (const g of groups) expect(seen.items.filter((e) => e.docId === g).map((e) => e.sequence)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(maxActive).toBeGreaterThan(1);
  });

  it('runs a handler once per event id when the same event is delivered twice', async () => {
    const s = scenarios.idempotency;
    const calls = new Collector<string>();
    const metrics = MessagingMetrics.for(new Registry());
    await startConsumer(s, (event) => calls.push(event.id), { idempotency: new IdempotencyStore(redis, { prefix: `${uniqueName('it')}:` }), metrics });
    const via = publisher();
    const { envelope } = await publishDeleted(s, 'doc-dup', via);
    await via.publishEnvelope(envelope, { topic: s.topic }); // the same event again, as a redelivery would
    const marker = await publishDeleted(s, 'doc-after', via);
    await eventually(() => calls.items.includes(marker.envelope.id), 'the marker event');
    await eventually(async () => (await metrics.duplicates.get()).values.some((v) => v.value === 1), 'the duplicate to be counted');
    expect(calls.items.filter((id) => id === envelope.id)).toHaveLength(1);
  });

  it('on shutdown finishes the in-flight handler, acks it, and leaves the rest to the next consumer', async () => {
    const s = scenarios.shutdown;
    const finished = new Collector<string>();
    const started = new Collector<string>();
    const { app } = await startConsumer(s, async (event) => {
      started.push(event.data.docId);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      finished.push(event.data.docId);
    }, { concurrency: 1 });
    const via = publisher();
    await publishDeleted(s, 'first', via);
    await started.count(1);
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    expect(finished.items).toEqual(['first']);
    await publishDeleted(s, 'second', via);
    const next = new Collector<string>();
    await startConsumer(s, (event) => next.push(event.data.docId));
    await next.count(1);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 2_000));
    expect(next.items).toEqual(['second']); // 'first' was acked: never seen again
  });
});

describe('broker outages', () => {
  /** A TCP relay in front of the proxy that the test can cut and restore. */
  class Relay {
    private server: NetServer | undefined;
    private readonly sockets = new Set<Socket>();
    constructor(readonly port: number, private readonly target: { host: string; port: number }) {}
    async up() {
      this.server = createServer((client) => {
        const upstream = new Socket();
        upstream.connect(this.target.port, this.target.host);
        for (const socket of [client, upstream]) {
          this.sockets.add(socket);
          socket.on('close', () => this.sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    }
    async down() {
      for (const socket of this.sockets) socket.destroy();
      await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
      this.server = undefined;
    }
  }

  it('starts without a broker, consumes once it appears, fails publishes fast while it is gone, and recovers', async () => {
    const s = scenarios.outage;
    const [host = '127.0.0.1', port = '8081'] = testConnection().endpoints.split(':');
    const relayPort = 20_000 + Math.floor(Math.random() * 20_000);
    const relay = new Relay(relayPort, { host, port: Number(port) });
    const connection = { endpoints: `127.0.0.1:${relayPort}`, requestTimeoutMs: 2_000 };
    const health = new BrokerHealth(new BrokerProbe(connection, s.topic));
    const received = new Collector<string>();
    try {
      // Broker unreachable at start-up: the app starts, health is down, nothing hangs.
      await startConsumer(s, (event) => received.push(event.data.docId), { connection, health, startupTimeoutMs: 3_000 });
      expect((await health.check()).up).toBe(false);
      const offline = publisher(connection, 4_000);
      const failedAt = Date.now();
      await expect(publishDeleted(s, 'lost', offline)).rejects.toBeInstanceOf(PublishError);
      expect(Date.now() - failedAt).toBeLessThan(6_000);

      // The broker appears: the consumer connects and consumes.
      await relay.up();
      await eventually(async () => (await health.check()).up, 'health up after the broker appeared', 60_000);
      await publishDeleted(s, 'one');
      await received.count(1, 30_000);

      // The broker goes away: health goes down, publishes fail with a typed error in bounded time.
      await relay.down();
      await eventually(async () => !(await health.check()).up, 'health down after the broker went away');
      const during = publisher(connection, 4_000);
      const sentAt = Date.now();
      const failure = await publishDeleted(s, 'during', during).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(PublishError);
      expect((failure as PublishError).retryable).toBe(true);
      expect(Date.now() - sentAt).toBeLessThan(6_000);

      // It comes back: the same consumer picks up again.
      await relay.up();
      await eventually(async () => (await health.check()).up, 'health up after the broker returned', 60_000);
      await publishDeleted(s, 'two');
      await eventually(() => received.items.includes('two'), 'consumption after the broker returned', 60_000);
    } finally {
      await relay.down();
      health.probe.close();
    }
  });
});
