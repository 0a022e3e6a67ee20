import { useTestRedis } from '@aip/testing';
import { DeadlineQueue, type QueuedRequest } from './index.ts';

const suite = useTestRedis('aip:rl:it:');
let n = 0;

/** A fresh queue, plus the same queue seen through another connection (another replica). */
function queues() {
  const name = `q${++n}`;
  const { prefix } = suite;
  return { a: new DeadlineQueue(suite.redis, { prefix, name }), b: new DeadlineQueue(suite.other, { prefix, name }) };
}

const T = Date.now();

function item(keyId: string, requestId: string, extra: Partial<QueuedRequest> = {}): QueuedRequest {
  return { requestId, keyId, priority: 5, deadlineMs: T + 60_000, payload: JSON.stringify({ requestId }), ...extra };
}

async function drain(queue: DeadlineQueue, now = T): Promise<string[]> {
  const taken: string[] = [];
  for (let next = await queue.takeNext(now); next; next = await queue.takeNext(now)) taken.push(next.requestId);
  return taken;
}

describe('DeadlineQueue (real Redis)', () => {
  it('serves a key with one waiting request within the first two takes, however many another key has', async () => {
    const { a } = queues();
    for (let i = 1; i <= 5; i++) await a.enqueue(item('A', `a${i}`));
    await a.enqueue(item('B', 'b1'));
    const firstTwo = [(await a.takeNext(T))?.keyId, (await a.takeNext(T))?.keyId];
    expect(firstTwo).toContain('B');
    expect(await drain(a)).toEqual(['a2', 'a3', 'a4', 'a5']);
  });

  it('rotates across keys: A B C A B C ...', async () => {
    const { a } = queues();
    for (const key of ['A', 'B', 'C']) for (let i = 1; i <= 3; i++) await a.enqueue(item(key, `${key}${i}`, { deadlineMs: T + 1_000 * i }));
    expect(await drain(a)).toEqual(['A1', 'B1', 'C1', 'A2', 'B2', 'C2', 'A3', 'B3', 'C3']);
  });

  it('lets a key that starts waiting go before the key that was just served', async () => {
    const { a } = queues();
    await a.enqueue(item('A', 'a1'));
    await a.enqueue(item('A', 'a2'));
    expect((await a.takeNext(T))?.requestId).toBe('a1');
    await a.enqueue(item('B', 'b1'));
    expect((await a.takeNext(T))?.requestId).toBe('b1');
  });

  it('takes the lowest priority number first within a key, then the earliest deadline', async () => {
    const { a } = queues();
    await a.enqueue(item('A', 'batch', { priority: 9, deadlineMs: T + 1_000 }));
    await a.enqueue(item('A', 'interactive-late', { priority: 0, deadlineMs: T + 50_000 }));
    await a.enqueue(item('A', 'interactive-soon', { priority: 0, deadlineMs: T + 5_000 }));
    await a.enqueue(item('A', 'normal', { priority: 3 }));
    expect(await drain(a)).toEqual(['interactive-soon', 'interactive-late', 'normal', 'batch']);
  });

  it('returns the whole request, payload included', async () => {
    const { a } = queues();
    const request = item('K', 'full', { priority: 0, payload: '{"messages":[{"role":"user","content":"héllo \\u0000"}]}' });
    await a.enqueue(request);
    expect(await a.takeNext(T)).toEqual(request);
    expect(await a.takeNext(T)).toBeUndefined();
  });

  it('never hands out an expired request; takeExpired returns those for deadline_exceeded', async () => {
    const { a } = queues();
    await a.enqueue(item('A', 'gone-urgent', { priority: 0, deadlineMs: T + 100 }));
    await a.enqueue(item('A', 'alive', { priority: 1, deadlineMs: T + 10_000 }));
    await a.enqueue(item('A', 'gone-lax', { priority: 1, deadlineMs: T + 200 }));
    await a.enqueue(item('B', 'gone-b', { deadlineMs: T + 300 }));
    expect((await a.takeNext(T + 1_000))?.requestId).toBe('alive');
    expect(await a.takeNext(T + 1_000)).toBeUndefined();
    expect(await a.size()).toBe(3);
    expect(await a.takeExpired(T + 250, 10)).toEqual([
      expect.objectContaining({ requestId: 'gone-urgent', deadlineMs: T + 100 }),
      expect.objectContaining({ requestId: 'gone-lax', deadlineMs: T + 200 }),
    ]);
    expect((await a.takeExpired(T + 1_000, 1)).map((expired) => expired.requestId)).toEqual(['gone-b']);
    expect(await a.takeExpired(T + 1_000, 10)).toEqual([]);
    expect(await a.size()).toBe(0);
  });

  it('treats a deadline equal to now as passed', async () => {
    const { a } = queues();
    await a.enqueue(item('A', 'edge', { deadlineMs: T }));
    expect(await a.takeNext(T)).toBeUndefined();
    expect((await a.takeNext(T - 1))?.requestId).toBe('edge');
  });

  it('keeps the first copy of a request enqueued twice, and can cancel one', async () => {
    const { a } = queues();
    expect(await a.enqueue(item('A', 'dup', { priority: 1 }))).toEqual({ outcome: 'queued', ahead: 0, parked: 0 });
    expect((await a.enqueue(item('A', 'dup', { priority: 0, payload: 'second' }))).outcome).toBe('duplicate');
    await a.enqueue(item('A', 'other'));
    expect(await a.size()).toBe(2);
    expect((await a.cancel('other'))?.requestId).toBe('other');
    expect(await a.cancel('other')).toBeUndefined();
    expect(await a.takeNext(T)).toMatchObject({ requestId: 'dup', priority: 1 });
    expect(await a.size()).toBe(0);
  });

  it('hands every request to exactly one of two replicas racing takeNext', async () => {
    const { a, b } = queues();
    const ids = Array.from({ length: 50 }, (_, i) => `r${i}`);
    await Promise.all(ids.map((id, i) => a.enqueue(item(`key${i % 7}`, id, { priority: i % 3 }))));
    const taken = await Promise.all(Array.from({ length: 80 }, (_, i) => (i % 2 ? a : b).takeNext(T)));
    const got = taken.flatMap((request) => (request ? [request.requestId] : []));
    expect(got).toHaveLength(50);
    expect(new Set(got)).toEqual(new Set(ids));
    expect(await a.size()).toBe(0);
  });

  it('hands every expired request to exactly one of two replicas racing takeExpired', async () => {
    const { a, b } = queues();
    const ids = Array.from({ length: 30 }, (_, i) => `e${i}`);
    await Promise.all(ids.map((id, i) => a.enqueue(item(`key${i % 4}`, id, { deadlineMs: T + i }))));
    const batches = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).takeExpired(T + 1_000, 4)));
    const got = batches.flat().map((request) => request.requestId);
    expect(got.sort()).toEqual([...ids].sort());
  });

  it('refuses a request when more than maxAhead of its key would be served before it (only those ahead in order count), or its key already parks maxParked', async () => {
    const { a } = queues();
    for (let i = 1; i <= 3; i++) expect((await a.enqueue(item('A', `a${i}`), { maxAhead: 2 })).outcome).toBe('queued');
    // Three of key A wait at priority 5: a fourth would be the fourth served.
    expect(await a.enqueue(item('A', 'a4'), { maxAhead: 2 })).toEqual({ outcome: 'refused', ahead: 3, parked: 3 });
    // An urgent one of the same key goes before all three: nothing is ahead of it.
    expect(await a.enqueue(item('A', 'urgent', { priority: 0 }), { maxAhead: 2 })).toEqual({ outcome: 'queued', ahead: 0, parked: 3 });
    // ...unless the key may not park that many, wherever it would go.
    expect(await a.enqueue(item('A', 'urgent-2', { priority: 0 }), { maxParked: 4 })).toEqual({ outcome: 'refused', ahead: 1, parked: 4 });
    // Another key's count is its own.
    expect(await a.enqueue(item('B', 'b1'), { maxAhead: 0, maxParked: 1 })).toEqual({ outcome: 'queued', ahead: 0, parked: 0 });
    expect(await a.size()).toBe(5);
    expect(await drain(a)).not.toContain('a4');
  });

  it('validates what it stores', async () => {
    const { a } = queues();
    await expect(a.enqueue(item('A', 'bad', { priority: 100 }))).rejects.toThrow(RangeError);
    await expect(a.enqueue(item('A{x}', 'bad'))).rejects.toThrow(TypeError);
    await expect(a.enqueue(item('A', 'bad'), { maxAhead: -1 })).rejects.toThrow(RangeError);
  });
});
