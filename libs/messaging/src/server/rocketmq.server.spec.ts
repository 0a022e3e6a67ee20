import { jest } from '@jest/globals';
import { CONSUMER_GROUPS, createEnvelope, TOPICS, type Envelope } from '@aip/contracts';
import type { MessageHandler } from '@nestjs/microservices';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { FakeConsumer, message } from '../../test/fake-consumer.ts';
import { RocketMQConsumer } from '../consumer/rocketmq.consumer.ts';
import type { RocketMQContext } from '../ctx-host/rocketmq.context.ts';
import type { IdempotencyStore } from '../idempotency/idempotency.store.ts';
import { MessagingMetrics } from '../metrics/messaging.metrics.ts';
import { RocketMQServer, type RocketMQHandlerExtras, type RocketMQServerOptions } from './rocketmq.server.ts';

// The server with its consumers replaced by FakeConsumers (RocketMQConsumer.start is spied on): what
// it subscribes to on the broker, and what a handler sees, with and without a broker namespace.

interface Started {
  group: string;
  topic: string;
  filter: string;
  consumer: FakeConsumer;
}

let started: Started[];
const servers: RocketMQServer[] = [];

beforeEach(() => {
  started = [];
  jest.spyOn(RocketMQConsumer, 'start').mockImplementation(async ({ group, topic, filter }) => {
    const consumer = new FakeConsumer();
    started.push({ group, topic, filter, consumer });
    return consumer as unknown as RocketMQConsumer;
  });
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  jest.restoreAllMocks();
});

type Seen = { envelope: Envelope; group: string; topic: string; maxAttempts: number };

/** A started server whose one handler records what it is given. */
async function serve(options: { namespace?: string; group: string; extras?: RocketMQHandlerExtras; idempotency?: IdempotencyStore }) {
  const connection: RocketMQServerOptions['connection'] = { endpoints: '127.0.0.1:8081', ...(options.namespace === undefined ? {} : { namespace: options.namespace }) };
  const server = new RocketMQServer({
    connection,
    group: options.group,
    pollWaitMs: 20,
    drainTimeoutMs: 200,
    logger: pino({ level: 'silent' }),
    metrics: MessagingMetrics.for(new Registry()),
    ...(options.idempotency ? { idempotency: options.idempotency } : {}),
  });
  servers.push(server);
  const seen: Seen[] = [];
  const handler = (async (envelope: Envelope, ctx: RocketMQContext) => {
    seen.push({ envelope, group: ctx.getGroup(), topic: ctx.getTopic(), maxAttempts: ctx.getMaxAttempts() });
  }) as MessageHandler;
  server.addHandler('kb.document.deleted', handler, true, options.extras ?? {});
  await new Promise<void>((resolve, reject) => server.listen((error?: unknown) => (error ? reject(error as Error) : resolve())));
  await until(() => started.length > 0);
  return { server, seen };
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function deleted(topic: string, tag = 'deleted') {
  const envelope = createEnvelope('kb.document.deleted', { kbId: 'kb', docId: 'doc-1' }, { source: 'spec', tenantId: 'acme' });
  return { envelope, view: message({ topic, tag, body: Buffer.from(JSON.stringify(envelope)) }) };
}

describe('RocketMQServer and broker namespaces', () => {
  it("subscribes the contracts' group and topic in the namespace, and hands the handler the broker's names", async () => {
    const { seen } = await serve({ namespace: 'run-7', group: CONSUMER_GROUPS.intentScheduler.name });
    expect(started.map(({ group, topic, filter }) => ({ group, topic, filter }))).toEqual([{ group: 'run-7_intent-scheduler', topic: `run-7_${TOPICS.kbLifecycle.name}`, filter: 'deleted' }]);

    const { envelope, view } = deleted('run-7_kb-lifecycle');
    started[0]!.consumer.push(view);
    await until(() => started[0]!.consumer.calls.length === 1);
    expect(started[0]!.consumer.calls).toEqual([{ op: 'ack', id: view.messageId }]);
    // The group's settings still come from the contracts (looked up by its name there).
    expect(seen).toEqual([{ envelope, group: 'run-7_intent-scheduler', topic: 'run-7_kb-lifecycle', maxAttempts: CONSUMER_GROUPS.intentScheduler.maxAttempts }]);
  });

  it('uses the names of the contracts as they are without a namespace', async () => {
    await serve({ group: CONSUMER_GROUPS.intentScheduler.name });
    expect(started.map(({ group, topic }) => ({ group, topic }))).toEqual([{ group: 'intent-scheduler', topic: 'kb-lifecycle' }]);
  });

  it("puts a handler's own group and topic in the namespace too", async () => {
    await serve({ namespace: 'run-7', group: CONSUMER_GROUPS.intentScheduler.name, extras: { group: 'audit', topic: TOPICS.configChange.name } });
    expect(started.map(({ group, topic }) => ({ group, topic }))).toEqual([{ group: 'run-7_audit', topic: 'run-7_config-change' }]);
  });

  it("follows a lane of a laned group of the contracts as the namespace's lane group, keeping the group's attempts", async () => {
    const { server, seen } = await serve({ namespace: 'run-7', group: CONSUMER_GROUPS.inference.name });
    expect(server.lanes).toBe(CONSUMER_GROUPS.inference.lanes);
    const lane = server.followLane(3);
    await until(() => started.length === 2);
    expect(started[1]).toMatchObject({ group: 'run-7_inference-lane-03', topic: 'run-7_kb-lifecycle', filter: 'deleted@lane-3' });

    const { view } = deleted('run-7_kb-lifecycle', 'deleted@lane-3');
    started[1]!.consumer.push(view);
    await until(() => seen.length === 1);
    // One logical consumer: the lane's deliveries count as the group's (its name, its attempts).
    expect(seen[0]).toMatchObject({ group: 'run-7_inference', maxAttempts: CONSUMER_GROUPS.inference.maxAttempts });
    await lane.stop();
  });

  it('runs each event at most once per group as the broker names it', async () => {
    const groups: string[] = [];
    const idempotency = {
      once: async (group: string, _id: string, work: () => Promise<void>) => {
        groups.push(group);
        await work();
        return 'ran' as const;
      },
      renew: async () => undefined,
      outageSince: () => false,
      reachable: async () => undefined,
    } as unknown as IdempotencyStore;
    const { seen } = await serve({ namespace: 'run-7', group: CONSUMER_GROUPS.intentScheduler.name, idempotency });
    started[0]!.consumer.push(deleted('run-7_kb-lifecycle').view);
    await until(() => seen.length === 1);
    expect(groups).toEqual(['run-7_intent-scheduler']);
  });

  it('refuses a namespace the broker could not take', () => {
    const settings = { group: 'g', logger: pino({ level: 'silent' }), metrics: MessagingMetrics.for(new Registry()) };
    expect(() => new RocketMQServer({ ...settings, connection: { endpoints: '127.0.0.1:8081', namespace: 'a.b' } })).toThrow(/broker namespace "a.b"/);
  });
});
