import { randomUUID } from 'node:crypto';
import { deleteKeys, testRedis } from '@aip/testing';
import type { Redis } from 'ioredis';
import { WorkerRegistry, type WorkerRegistryOptions } from './index.ts';

const prefix = `aip:rl:it:${randomUUID()}:`;
let redis: Redis;
let other: Redis;
let n = 0;

beforeAll(() => {
  redis = testRedis();
  other = testRedis();
});

afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
  other.disconnect();
});

/** A fresh pool seen by two router replicas on separate connections. */
function registries(options: WorkerRegistryOptions = {}) {
  const pool = `p${++n}`;
  return { a: new WorkerRegistry(redis, { prefix, pool, heartbeatTtlMs: 10_000, ...options }), b: new WorkerRegistry(other, { prefix, pool, heartbeatTtlMs: 10_000, ...options }) };
}

const T = Date.now();

describe('WorkerRegistry (real Redis)', () => {
  it('sums the free slots of live workers only', async () => {
    const { a, b } = registries();
    await a.report({ workerId: 'w1', slots: 8, busy: 3 }, T);
    await b.report({ workerId: 'w2', slots: 4, busy: 4 }, T);
    await a.report({ workerId: 'w3', slots: 2, busy: 5 }, T); // over-committed counts as 0 free, not -3
    expect(await b.liveCapacity(T)).toBe(5);
    await a.report({ workerId: 'w2', slots: 4, busy: 1 }, T + 9_000);
    // w1 and w3 stopped reporting: after their heartbeat TTL only w2 counts.
    expect(await a.liveCapacity(T + 10_000)).toBe(3);
    expect((await a.liveWorkers(T + 10_000)).map((worker) => worker.workerId)).toEqual(['w2']);
    await a.deregister('w2');
    expect(await a.liveCapacity(T + 10_000)).toBe(0);
  });

  it('returns nothing when no worker is alive', async () => {
    const { a } = registries();
    expect(await a.chooseWorker('s', { maxLoadGap: 2, nowMs: T })).toBeUndefined();
    await a.report({ workerId: 'w1', slots: 1, busy: 0 }, T);
    expect(await a.chooseWorker('s', { maxLoadGap: 2, nowMs: T + 10_000 })).toBeUndefined();
  });

  it('keeps a session on its worker across router replicas', async () => {
    const { a, b } = registries({ countAssignments: false });
    await a.report({ workerId: 'w1', slots: 8, busy: 2 }, T);
    await a.report({ workerId: 'w2', slots: 8, busy: 1 }, T);
    expect(await a.chooseWorker('s1', { maxLoadGap: 2, nowMs: T })).toEqual({ workerId: 'w2', reason: 'new', previousWorkerId: undefined });
    await a.report({ workerId: 'w2', slots: 8, busy: 3 }, T + 1_000);
    // w2 is now busier than w1, but within the gap: the session's KV cache is worth more.
    expect(await b.chooseWorker('s1', { maxLoadGap: 2, nowMs: T + 1_000 })).toEqual({ workerId: 'w2', reason: 'sticky', previousWorkerId: 'w2' });
  });

  it('re-pins a session whose worker is much busier than the least loaded (balance guard)', async () => {
    const { a, b } = registries({ countAssignments: false });
    await a.report({ workerId: 'w1', slots: 8, busy: 0 }, T);
    await a.report({ workerId: 'w2', slots: 8, busy: 1 }, T);
    expect((await a.chooseWorker('s', { maxLoadGap: 2, nowMs: T }))?.workerId).toBe('w1');
    await a.report({ workerId: 'w1', slots: 8, busy: 4 }, T + 1_000);
    expect(await b.chooseWorker('s', { maxLoadGap: 2, nowMs: T + 1_000 })).toEqual({ workerId: 'w2', reason: 'rebalanced', previousWorkerId: 'w1' });
    // The new pin sticks.
    expect(await a.chooseWorker('s', { maxLoadGap: 2, nowMs: T + 1_000 })).toMatchObject({ workerId: 'w2', reason: 'sticky' });
  });

  it('moves a session off a dead worker and stays on the new one', async () => {
    const { a } = registries({ countAssignments: false });
    await a.report({ workerId: 'w1', slots: 4, busy: 0 }, T);
    await a.report({ workerId: 'w2', slots: 4, busy: 3 }, T);
    expect((await a.chooseWorker('s', { maxLoadGap: 1, nowMs: T }))?.workerId).toBe('w1');
    // w1 crashes (no more heartbeats); w2 keeps reporting.
    await a.report({ workerId: 'w2', slots: 4, busy: 3 }, T + 8_000);
    expect(await a.chooseWorker('s', { maxLoadGap: 1, nowMs: T + 12_000 })).toEqual({ workerId: 'w2', reason: 'failover', previousWorkerId: 'w1' });
    // w1 comes back idle; with a gap of 3 the session stays on w2, where its cache now is.
    await a.report({ workerId: 'w1', slots: 4, busy: 0 }, T + 12_000);
    expect(await a.chooseWorker('s', { maxLoadGap: 3, nowMs: T + 12_000 })).toMatchObject({ workerId: 'w2', reason: 'sticky' });
  });

  it('gives one new session the same worker when two router replicas choose at once', async () => {
    const { a, b } = registries();
    for (const workerId of ['w1', 'w2', 'w3']) await a.report({ workerId, slots: 4, busy: 0 }, T);
    const [first, second] = await Promise.all([a.chooseWorker('same', { maxLoadGap: 1, nowMs: T }), b.chooseWorker('same', { maxLoadGap: 1, nowMs: T })]);
    expect(first!.workerId).toBe(second!.workerId);
    expect([first!.reason, second!.reason].sort()).toEqual(['new', 'sticky']);
  });

  it('breaks ties by free slots, then worker id', async () => {
    const { a } = registries({ countAssignments: false });
    await a.report({ workerId: 'w-b', slots: 4, busy: 1 }, T);
    await a.report({ workerId: 'w-a', slots: 4, busy: 1 }, T);
    await a.report({ workerId: 'w-c', slots: 16, busy: 1 }, T);
    expect((await a.chooseWorker('x', { maxLoadGap: 0, nowMs: T }))?.workerId).toBe('w-c');
    await a.report({ workerId: 'w-c', slots: 16, busy: 2 }, T);
    expect((await a.chooseWorker('y', { maxLoadGap: 0, nowMs: T }))?.workerId).toBe('w-a');
  });

  it('spreads a burst of new sessions between heartbeats instead of piling them on one worker', async () => {
    const { a, b } = registries();
    for (const workerId of ['w1', 'w2', 'w3']) await a.report({ workerId, slots: 4, busy: 0 }, T);
    const choices = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).chooseWorker(`s${i}`, { maxLoadGap: 1, nowMs: T })));
    const perWorker = new Map<string, number>();
    for (const choice of choices) perWorker.set(choice!.workerId, (perWorker.get(choice!.workerId) ?? 0) + 1);
    expect([...perWorker.values()]).toEqual([2, 2, 2]);
    expect(await a.liveCapacity(T)).toBe(6);
    // The next heartbeat replaces the estimate with the truth.
    await a.report({ workerId: 'w1', slots: 4, busy: 0 }, T + 1);
    expect(await a.liveCapacity(T + 1)).toBe(8);
  });
});
