import { randomUUID } from 'node:crypto';
import { createEnvelope, type Envelope, type EventType } from '@aip/contracts';
import { ApiKeyStore } from '@aip/keys';
import { PublishError, type EventPublisher } from '@aip/messaging';
import { AdmissionControl, AdmissionGate, DeadlineQueue, PolicyBook, SpendBudgets, usdToNanos, WorkerRegistry } from '@aip/rate-limit';
import { PriceBook } from '@aip/usage';
import { TaskStore } from '@aip/tasks';
import { deleteKeys, eventually, testRedis } from '@aip/testing';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { rateLimiterEnvSchema } from '../rate-limiter.config.ts';
import { AdmissionService } from './admission.service.ts';
import { QueuePump } from './queue-pump.ts';

// The deadline-queue pump on real Redis, with the broker replaced by a publisher that can be
// switched off: what happens to parked requests when forwarding them fails is the point here
// (issue 11: they were popped, the publish threw, and they were gone).
const prefix = `aip:it:admission:${randomUUID()}:`;
let redis: Redis;
let tasks: TaskStore;
let keys: ApiKeyStore;
let admission: AdmissionControl;
let queue: DeadlineQueue;
let service: AdmissionService;
let pump: QueuePump;
const published: { type: EventType; data: unknown }[] = [];
let brokerDown = false;
/** Redis refusing the pump's put-back (as during a Redis restart), while the rest still works. */
let putBackRefused = false;

function platform(keyPrefix: string, options: { policies?: unknown; routing?: unknown } = {}) {
  const publisher = {
    publish: async (type: EventType, data: unknown) => {
      if (brokerDown) throw new PublishError('BROKER_UNAVAILABLE', 'broker unreachable (test)');
      published.push({ type, data });
    },
  } as unknown as EventPublisher;
  const parts = {
    tasks: new TaskStore(redis, { prefix: keyPrefix }),
    keys: new ApiKeyStore(redis, keyPrefix),
    admission: new AdmissionControl(redis, { prefix: `${keyPrefix}rl:` }),
    queue: new (class extends DeadlineQueue {
      override async enqueue(...args: Parameters<DeadlineQueue['enqueue']>) {
        if (putBackRefused) throw new Error('Connection is closed. (test)');
        return super.enqueue(...args);
      }
    })(redis, { prefix: `${keyPrefix}rl:` }),
  };
  const env = rateLimiterEnvSchema.parse({ REDIS_PREFIX: keyPrefix, QUEUE_PUMP_MS: '20', CHECK_WORKER_CAPACITY: 'false', MAX_PARKED_PER_KEY: '3' });
  const logger = pino({ level: 'silent' });
  const policies = new PolicyBook(env.DEFAULT_POLICY);
  if (options.policies) policies.apply(options.policies);
  const prices = new PriceBook(options.routing ?? null);
  const budgets = new SpendBudgets(redis, `${keyPrefix}rl:`);
  const gate = new AdmissionGate(parts.admission, new WorkerRegistry(redis, { prefix: `${keyPrefix}rl:` }), { budgets, estimate: (request) => prices.estimateNanos(request.model, request.estimatedPromptTokens, request.maxTokens) });
  const admissionService = new AdmissionService(parts.admission, gate, parts.queue, policies, budgets, prices, parts.keys, parts.tasks, publisher, env, logger);
  return { ...parts, budgets, policies, service: admissionService, pump: new QueuePump(admissionService, parts.queue, parts.admission, env, logger) };
}

beforeAll(() => {
  redis = testRedis();
  ({ tasks, keys, admission, queue, service, pump } = platform(prefix));
  pump.onApplicationBootstrap();
});

afterAll(async () => {
  await pump.onApplicationShutdown();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

const submitted = (keyId: string, deadlineInMs?: number) => submittedTo(tasks, keyId, deadlineInMs);

async function submittedTo(store: TaskStore, keyId: string, deadlineInMs = 15_000): Promise<Envelope<'ai.request.submitted'>> {
  const taskId = randomUUID();
  await store.create({ id: taskId, tenantId: 'acme', keyId, model: 'extractive', stream: false });
  return createEnvelope(
    'ai.request.submitted',
    { taskId, apiKeyId: keyId, model: 'extractive', messages: [{ role: 'user', content: 'hi' }], maxTokens: 16, stream: false, priority: 5, deadline: new Date(Date.now() + deadlineInMs).toISOString(), estimatedPromptTokens: 2 },
    { source: 'test', tenantId: 'acme' },
  );
}

const admitted = () => published.filter((event) => event.type === 'ai.request.admitted').map((event) => event.data as { request: { taskId: string }; reservationId: string });
const admittedIds = () => admitted().map((data) => data.request.taskId);
const reservationOf = (taskId: string) => admitted().find((data) => data.request.taskId === taskId)!.reservationId;

describe('the deadline-queue pump', () => {
  it('loses nothing when forwarding fails: parked requests wait out a broker outage and are admitted once it is back', async () => {
    const { record } = await keys.create({ tenantId: 'acme', policy: { id: 'one', maxConcurrent: 1 } });
    const first = await submitted(record.id);
    await service.submit(first);
    expect(admittedIds()).toContain(first.data.taskId);
    // A later deadline for the second: the queue orders a key's requests by deadline, then by id, and
    // two made in the same millisecond were ordered by their random ids (the test then waited for
    // the wrong one: it failed about one run in five).
    const parked = [await submitted(record.id), await submitted(record.id, 16_000)];
    for (const event of parked) await service.submit(event);
    for (const event of parked) expect((await tasks.get(event.data.taskId))?.status).toBe('queued');

    // The slot frees while the broker is down: the pump takes a parked request, cannot forward it.
    brokerDown = true;
    try {
      await admission.release(reservationOf(first.data.taskId));
      await new Promise((resolve) => setTimeout(resolve, 300)); // a dozen pump ticks fail
      for (const event of parked) expect((await tasks.get(event.data.taskId))?.status).toBe('queued');
      // Its reservation was given back each time, so a request that never ran holds no slot.
      await eventually(async () => (await admission.usage(record.id)).concurrent === 0, 'no slot held while the broker is down', 10_000);
    } finally {
      brokerDown = false;
    }
    await eventually(() => admittedIds().includes(parked[0]!.data.taskId), 'the first parked request admitted after the outage', 15_000);
    // The other still waits for the slot (it is never lost, only briefly in the pump's hands).
    await eventually(async () => (await queue.cancel(parked[1]!.data.taskId)) !== undefined, 'the second still parked', 10_000);
  });

  it('loses nothing when Redis also refuses to take a request back: it is kept in memory and put back once Redis answers', async () => {
    const { record } = await keys.create({ tenantId: 'acme', policy: { id: 'one-b', maxConcurrent: 1 } });
    const first = await submitted(record.id);
    await service.submit(first);
    const parked = await submitted(record.id);
    await service.submit(parked);
    brokerDown = true;
    putBackRefused = true;
    try {
      await admission.release(reservationOf(first.data.taskId));
      // Taken by the pump, not forwarded, not taken back: before the fix it was gone here.
      await eventually(async () => (await queue.size()) === 0, 'the pump to take the parked request', 10_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      brokerDown = false;
      putBackRefused = false;
    }
    await eventually(() => admittedIds().includes(parked.data.taskId), 'the request admitted once Redis and the broker are back', 15_000);
  });

  it('refuses at once what the key cannot park (MAX_PARKED_PER_KEY), with the reason', async () => {
    // A limiter whose pump does not run, so the parked requests stay put while the fourth arrives.
    const still = platform(`${prefix}still:`);
    const { record } = await still.keys.create({ tenantId: 'acme', policy: { id: 'busy', maxConcurrent: 1 } });
    const make = () => submittedTo(still.tasks, record.id);
    await still.service.submit(await make());
    const waiting = [await make(), await make(), await make(), await make()];
    for (const event of waiting) await still.service.submit(event);
    const refused = await still.tasks.get(waiting[3]!.data.taskId);
    expect(refused).toMatchObject({ status: 'rejected', error: { code: 'concurrency_limit' } });
    expect(refused?.error?.message).toMatch(/3 requests of this key are already waiting/);
    for (const event of waiting.slice(0, 3)) expect((await still.tasks.get(event.data.taskId))?.status).toBe('queued');
    expect(await still.queue.size()).toBe(3);
  });

  it('does not admit a request cancelled while it waited', async () => {
    const { record } = await keys.create({ tenantId: 'acme', policy: { id: 'solo', maxConcurrent: 1 } });
    const running = await submitted(record.id);
    await service.submit(running);
    const waiting = await submitted(record.id);
    await service.submit(waiting);
    await tasks.requestCancel(waiting.data.taskId);
    await admission.release(reservationOf(running.data.taskId));
    await eventually(async () => (await queue.size()) === 0, 'the cancelled request leaves the queue', 15_000);
    expect(admittedIds()).not.toContain(waiting.data.taskId);
    expect((await admission.usage(record.id)).concurrent).toBe(0);
  });

  it('rejects a parked request that cannot make its deadline even while the broker is down (the missing rejection event is logged and counted)', async () => {
    const { record } = await keys.create({ tenantId: 'acme', policy: { id: 'stuck', maxConcurrent: 1 } });
    await service.submit(await submitted(record.id));
    const late = await submitted(record.id, 1_500);
    await service.submit(late);
    brokerDown = true;
    try {
      await eventually(async () => (await tasks.get(late.data.taskId))?.status === 'rejected', 'the late request rejected', 15_000);
    } finally {
      brokerDown = false;
    }
    // Given up once a slot could no longer free in time, or at the deadline itself.
    expect(['concurrency_limit', 'deadline_exceeded']).toContain((await tasks.get(late.data.taskId))?.error?.code);
    await eventually(async () => (await queue.size()) === 0, 'nothing left parked', 10_000);
  });
});

describe('spend budgets', () => {
  // $1 per million prompt tokens and $100 per million completion tokens: a request of 2 prompt
  // tokens and max_tokens 16 may cost at most $0.001602; the tenant's budget is a cent a month.
  const routing = { models: { extractive: { providers: [{ name: 'cheap', model: 'c', price: { input: 1, output: 10 } }, { name: 'dear', model: 'd', price: { input: 1, output: 100 } }] } } };
  const budget = { id: 'cent', tenantId: 'acme', amountUsd: 0.01, period: 'month', softPercent: 50 };
  let budgeted: ReturnType<typeof platform>;
  beforeAll(() => {
    budgeted = platform(`${prefix}spend:`, { policies: { budgets: [budget] }, routing });
  });

  it('reserves the dearest cost, refuses at once (never parked) naming the budget and its reset, tells observers at the soft limit once, and settles to the real cost', async () => {
    const { record } = await budgeted.keys.create({ tenantId: 'acme' });
    const submit = async () => {
      const event = await submittedTo(budgeted.tasks, record.id);
      await budgeted.service.submit(event);
      return event;
    };
    const before = published.length;
    const admittedNow = [];
    for (let i = 0; i < 6; i++) admittedNow.push(await submit());
    const refused = await submit();
    const task = await budgeted.tasks.get(refused.data.taskId);
    expect(task?.status).toBe('rejected');
    expect(task?.error?.code).toBe('budget_exceeded');
    expect(task?.error?.message).toMatch(/monthly budget cent \(tenant acme\) of \$0\.01 would be exceeded \(\$0\.0096 spent\); it resets at \d{4}-\d{2}-01T00:00:00\.000Z/);
    expect(await budgeted.queue.size()).toBe(0);
    const events = published.slice(before);
    expect(events.filter((event) => event.type === 'ai.request.admitted')).toHaveLength(6);
    // The fourth request took the spend past half the cent ($0.0064): one threshold event.
    expect(events.filter((event) => event.type === 'ai.budget.threshold')).toEqual([{ type: 'ai.budget.threshold', data: expect.objectContaining({ budgetId: 'cent', period: 'month', amountUsd: 0.01, softPercent: 50, taskId: admittedNow[3]!.data.taskId }) }]);

    // The first request ends having cost 2 + 10 tokens at the cheap provider: $0.000102, not $0.001602.
    const reservationId = (events.find((event) => event.type === 'ai.request.admitted')!.data as { reservationId: string }).reservationId;
    const completed = createEnvelope('ai.inference.completed', { taskId: admittedNow[0]!.data.taskId, apiKeyId: record.id, workerId: 'w1', model: 'extractive', provider: 'cheap', reservationId, usage: { promptTokens: 2, completionTokens: 10, totalTokens: 12 }, timings: { queueMs: 0, totalMs: 5 }, finishReason: 'stop' }, { source: 'test', tenantId: 'acme' });
    await budgeted.service.reconcile(completed);
    const [standing] = await budgeted.budgets.standing(budgeted.policies.budgets('acme'));
    expect(standing!.spentNanos).toBe(usdToNanos(0.001602 * 5 + 0.000102));
    // That freed room for one more.
    const next = await submit();
    expect((await budgeted.tasks.get(next.data.taskId))?.status).not.toBe('rejected');
  });
});

