import { testRedis, uniqueName } from '@aip/testing';
import type { Redis } from 'ioredis';
import { TaskEventHub } from './task-event.hub.ts';
import { StaleRunError, TaskStore } from './task.store.ts';

describe('TaskStore (real Redis)', () => {
  let redis: Redis;
  let store: TaskStore;
  const prefix = `${uniqueName('it-tasks')}:`;
  beforeAll(() => {
    redis = testRedis();
    store = new TaskStore(redis, { prefix });
  });

  async function collect(events: AsyncGenerator<{ event: { type: string; text?: string } }>, count: number) {
    const texts: string[] = [];
    for await (const { event } of events) {
      texts.push(event.text ?? event.type);
      if (texts.length === count) break;
    }
    return texts;
  }
  afterAll(() => redis.disconnect());

  it('fails an append Redis did not carry out, instead of reporting events as written', async () => {
    // The events stream's key holds a string: every XADD of the pipeline fails (WRONGTYPE), as
    // commands do when the connection drops mid-pipeline.
    await redis.set(`${prefix}task:{broken}:events`, 'not a stream');
    await expect(store.append('broken', [{ type: 'delta', text: 'lost?' }])).rejects.toThrow(/WRONGTYPE/);
  });

  it('hides a task from other tenants', async () => {
    await store.create({ id: 't1', tenantId: 'acme', keyId: 'k', model: 'extractive', stream: false });
    expect(await store.getForTenant('t1', 'acme')).toMatchObject({ id: 't1', status: 'queued', stream: false });
    expect(await store.getForTenant('t1', 'other')).toBeUndefined();
  });

  it('replays events after a given id', async () => {
    await store.create({ id: 't2', tenantId: 'acme', keyId: 'k', model: 'extractive', stream: true });
    const [first, second] = await store.append('t2', [{ type: 'delta', text: 'a' }, { type: 'delta', text: 'b' }]);
    expect((await store.read('t2', first)).map((e) => e.id)).toEqual([second]);
  });

  it('follows many tasks over one blocking connection, each from its own cursor, live', async () => {
    const reader = testRedis();
    const hub = new TaskEventHub(reader, redis, prefix);
    try {
      const [a1] = await store.append('ha', [{ type: 'delta', text: 'a1' }, { type: 'delta', text: 'a2' }]);
      const fromA = collect(hub.follow('ha', a1), 2);
      const fromB = collect(hub.follow('hb'), 2);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await store.append('hb', [{ type: 'delta', text: 'b1' }]);
      await store.append('ha', [{ type: 'delta', text: 'a3' }]);
      await store.append('hb', [{ type: 'delta', text: 'b2' }]);
      expect(await fromA).toEqual(['a2', 'a3']);
      expect(await fromB).toEqual(['b1', 'b2']);
    } finally {
      await hub.close();
      reader.disconnect();
    }
  });

  it('serves every follower of back-to-back tasks, even one that subscribes as the last one leaves', async () => {
    const reader = testRedis();
    const hub = new TaskEventHub(reader, redis, prefix);
    try {
      for (let i = 0; i < 20; i++) {
        const id = `seq-${i}`;
        const following = collect(hub.follow(id), 1);
        await store.append(id, [{ type: 'delta', text: `t${i}` }]);
        expect(await following).toEqual([`t${i}`]);
      }
    } finally {
      await hub.close();
      reader.disconnect();
    }
  });

  it('finishes a task once: a second terminal write is ignored', async () => {
    await store.create({ id: 't3', tenantId: 'acme', keyId: 'k', model: 'extractive', stream: false });
    expect(await store.finish('t3', 'cancelled', {}, { type: 'status', status: 'cancelled' })).toBe(true);
    expect(await store.finish('t3', 'completed', { result: 'late' }, { type: 'done', usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, finishReason: 'stop', model: 'x' })).toBe(false);
    expect(await store.get('t3')).toMatchObject({ status: 'cancelled' });
    expect((await store.read('t3')).map((e) => e.event.type)).toEqual(['status']);
  });

  const done = { type: 'done' as const, usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, finishReason: 'stop' as const, model: 'x' };
  const texts = async (id: string) => (await store.read(id)).map(({ event }) => (event.type === 'delta' ? event.text : event.type === 'status' ? event.status : event.type));

  // Regression (chaos suite, Redis restarts): an answer came back with every delta twice, from two
  // runs of one request writing into the same stream at once.
  it('lets one run write a task at a time: a later delivery takes over, and the earlier one is refused', async () => {
    await store.create({ id: 'r1', tenantId: 'acme', keyId: 'k', model: 'm', stream: true });
    const first = await store.beginRun('r1', { attempt: 1 });
    await first!.append([{ type: 'delta', text: 'The' }]);
    const second = await store.beginRun('r1', { attempt: 2 });
    await expect(first!.append([{ type: 'delta', text: ' late' }])).rejects.toMatchObject({ name: 'StaleRunError', reason: 'superseded' });
    await second!.append([{ type: 'delta', text: 'The' }, { type: 'delta', text: ' end' }]);
    await expect(first!.finish('completed', { result: 'The late' }, done)).rejects.toThrow(StaleRunError);
    expect(await second!.finish('completed', { result: 'The end' }, done)).toBe(true);
    expect(await texts('r1')).toEqual(['running', 'The', 'restart', 'running', 'The', ' end', 'done']);
    expect(await store.get('r1')).toEqual(expect.objectContaining({ status: 'completed', result: 'The end', attempt: 2 }));
    expect(Object.keys((await store.get('r1'))!).filter((field) => field.startsWith('_'))).toEqual([]);
  });

  it('carries out a write sent twice once (ioredis resends a command whose reply a dropped connection lost)', async () => {
    await store.create({ id: 'r2', tenantId: 'acme', keyId: 'k', model: 'm', stream: true });
    // The same run token and the same batch number: what a resend looks like to Redis.
    const [run, resent] = [await store.beginRun('r2', { attempt: 1 }, { token: 'token' }), await store.beginRun('r2', { attempt: 1 }, { token: 'token' })];
    await run!.append([{ type: 'delta', text: 'a' }, { type: 'delta', text: 'b' }]);
    await resent!.append([{ type: 'delta', text: 'a' }, { type: 'delta', text: 'b' }]);
    await run!.append([{ type: 'delta', text: 'c' }]);
    expect(await texts('r2')).toEqual(['running', 'a', 'b', 'c']);
    // A run taken over does not come back when its begin is sent again after an outage.
    expect(await store.beginRun('r2', { attempt: 2 }, { token: 'next' })).toBeDefined();
    expect(await store.beginRun('r2', { attempt: 1 }, { token: 'token' })).toBeUndefined();
    await expect(run!.append([{ type: 'delta', text: 'd' }])).rejects.toMatchObject({ reason: 'superseded' });
    expect(await texts('r2')).toEqual(['running', 'a', 'b', 'c', 'restart', 'running']);
  });

  it('does not let a run reopen or write to a task that has ended', async () => {
    await store.create({ id: 'r3', tenantId: 'acme', keyId: 'k', model: 'm', stream: true });
    const run = await store.beginRun('r3', { attempt: 1 });
    expect(await store.finish('r3', 'cancelled', {}, { type: 'status', status: 'cancelled' })).toBe(true);
    await expect(run!.append([{ type: 'delta', text: 'more' }])).rejects.toMatchObject({ reason: 'ended' });
    expect(await run!.finish('completed', { result: 'x' }, done)).toBe(false);
    expect(await store.beginRun('r3', { attempt: 2 })).toBeUndefined();
    expect(await store.beginRun('never-created', { attempt: 1 })).toBeUndefined();
    expect(await texts('r3')).toEqual(['running', 'cancelled']);
    expect(await store.get('r3')).toMatchObject({ status: 'cancelled' });
  });

  describe('runs whose worker went silent', () => {
    const liveness = { ttlMs: 1_000, graceMs: 0 };
    const lost = { code: 'worker_lost', message: 'the worker stopped; retry' };
    const later = (ms: number) => Date.now() + ms;
    const ours = (ended: { taskId: string }[], ...ids: string[]) => ended.filter((run) => ids.includes(run.taskId));

    // Regression (chaos suite, 100 worker kills): a worker killed on a request's last delivery left
    // its task running for ever: the broker dead-letters the message and no handler runs again.
    it('ends a task whose run stopped sending heartbeats, once, with a retryable error and what the limiter needs', async () => {
      await store.create({ id: 'o1', tenantId: 'acme', keyId: 'key-1', model: 'm', stream: true });
      const run = await store.beginRun('o1', { attempt: 3, workerId: 'w-dead' }, { liveness, reservationId: 'res-1' });
      await run!.append([{ type: 'delta', text: 'half an ans' }]);
      expect(ours(await store.endOrphanedRuns(lost, later(500)), 'o1')).toEqual([]); // still within its ttl
      expect(ours(await store.endOrphanedRuns(lost, later(1_500)), 'o1')).toEqual([{ taskId: 'o1', tenantId: 'acme', keyId: 'key-1', model: 'm', reservationId: 'res-1', attempt: 3, workerId: 'w-dead' }]);
      expect(ours(await store.endOrphanedRuns(lost, later(1_500)), 'o1')).toEqual([]); // once
      expect(await store.get('o1')).toMatchObject({ status: 'failed', error: lost });
      expect((await store.read('o1')).at(-1)!.event).toEqual({ type: 'error', ...lost, status: 503 });
      // The worker was not dead after all: its late writes are refused, the task stays failed.
      await expect(run!.append([{ type: 'delta', text: 'wer' }])).rejects.toMatchObject({ reason: 'ended' });
      expect(await run!.finish('completed', { result: 'x' }, done)).toBe(false);
    });

    it('leaves a run alone while it sends heartbeats, and a silent run alone while its grace for a redelivery lasts', async () => {
      await store.create({ id: 'o2', tenantId: 'acme', keyId: 'k', model: 'm', stream: true });
      const run = await store.beginRun('o2', { attempt: 1 }, { liveness });
      expect(await run!.heartbeat(later(2_000))).toBe(true);
      expect(ours(await store.endOrphanedRuns(lost, later(2_500)), 'o2')).toEqual([]);
      expect(await store.get('o2')).toMatchObject({ status: 'running' });
      expect(await run!.finish('completed', { result: 'x' }, done)).toBe(true);

      await store.create({ id: 'o3', tenantId: 'acme', keyId: 'k', model: 'm', stream: true });
      await store.beginRun('o3', { attempt: 1 }, { liveness: { ttlMs: 1_000, graceMs: 60_000 } });
      expect(ours(await store.endOrphanedRuns(lost, later(30_000)), 'o3')).toEqual([]);
      expect(ours(await store.endOrphanedRuns(lost, later(62_000)), 'o2', 'o3').map((run) => run.taskId)).toEqual(['o3']);
    });

    it('judges a task by the run that owns it now: a redelivery that took over keeps it alive', async () => {
      await store.create({ id: 'o4', tenantId: 'acme', keyId: 'k', model: 'm', stream: true });
      const dead = await store.beginRun('o4', { attempt: 1 }, { liveness });
      const next = await store.beginRun('o4', { attempt: 2 }, { liveness: { ttlMs: 60_000, graceMs: 0 } });
      expect(await dead!.heartbeat()).toBe(false);
      expect(ours(await store.endOrphanedRuns(lost, later(5_000)), 'o4')).toEqual([]);
      expect(await next!.finish('completed', { result: 'x' }, done)).toBe(true);
      // Ended tasks leave the index: a sweep far in the future finds nothing of them.
      expect(ours(await store.endOrphanedRuns(lost, later(3_600_000)), 'o1', 'o2', 'o3', 'o4')).toEqual([]);
      expect(await redis.zscore(`${prefix}tasks:running`, 'o4')).toBeNull();
    });
  });
});
