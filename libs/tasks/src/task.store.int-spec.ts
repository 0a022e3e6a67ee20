import { testRedis, uniqueName } from '@aip/testing';
import type { Redis } from 'ioredis';
import { TaskEventHub } from './task-event.hub.ts';
import { TaskStore } from './task.store.ts';

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
    await redis.set(`${prefix}task:{broken2}`, 'not a hash');
    await expect(store.update('broken2', { status: 'running' })).rejects.toThrow(/WRONGTYPE/);
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

  // Regression (chaos suite, Redis restarts): the status and the final event were two round trips;
  // a connection lost between them left a `completed` task with no `done` event, and its followers
  // (a streaming client, a synchronous completion) waited until their deadline.
  it('writes a terminal status only together with its final event, even when Redis goes away after one round trip', async () => {
    await store.create({ id: 't4', tenantId: 'acme', keyId: 'k', model: 'extractive', stream: true });
    let writes = 0;
    const flaky = new Proxy(redis, {
      get: (target, name) => {
        const value = Reflect.get(target, name) as unknown;
        if (typeof value !== 'function') return value;
        const writing = ['multi', 'pipeline', 'hset', 'xadd'].includes(String(name));
        if (writing && ++writes > 1) return () => { throw new Error('Connection is closed.'); };
        return (value as (...args: unknown[]) => unknown).bind(target);
      },
    });
    const done = { type: 'done' as const, usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, finishReason: 'stop' as const, model: 'x' };
    await new TaskStore(flaky, { prefix }).finish('t4', 'completed', { result: 'whole answer' }, done).catch(() => undefined);
    const finished = (await store.get('t4'))?.status === 'completed';
    const events = (await store.read('t4')).map((e) => e.event.type);
    expect({ finished, events }).toEqual(finished ? { finished, events: ['done'] } : { finished, events: [] });
  });
});
