import { EmbeddingSessions } from './embedding-sessions.ts';

const fake = new URL('../test/fake-session.worker.ts', import.meta.url);
const created: EmbeddingSessions[] = [];
function sessions(size: number, workerData: { failLoad?: string; holdMs?: number } = {}, onSessionError?: (error: Error) => void) {
  const pool = new EmbeddingSessions({ size, workerData, workerUrl: fake, ...(onSessionError ? { onSessionError } : {}) });
  created.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(created.splice(0).map((pool) => pool.close()));
});

const threadOf = (vectors: number[][]) => vectors[0]![1]!;

describe('EmbeddingSessions', () => {
  it('runs concurrent calls on different sessions at once, each call whole on one, vectors in input order', async () => {
    const pool = sessions(2, { holdMs: 200 });
    await pool.start();
    const [first, second, third] = await Promise.all([pool.run(['a', 'bb', 'ccc']), pool.run(['dddd']), pool.run(['eeeee'])]);
    expect(first!.map((vector) => vector[0])).toEqual([1, 2, 3]);
    expect(new Set(first!.map((vector) => vector[1])).size).toBe(1);
    // The first two ran side by side; the third waited for whichever session was free first.
    expect(threadOf(first!)).not.toBe(threadOf(second!));
    expect([threadOf(first!), threadOf(second!)]).toContain(threadOf(third!));
  });

  it('runs a call marked first before the waiting calls that are not', async () => {
    const pool = sessions(1, { holdMs: 50 });
    await pool.start();
    const order: string[] = [];
    const call = (name: string, first = false) => pool.run([name], { first }).then(() => order.push(name));
    await Promise.all([call('bulk 1'), call('bulk 2'), call('bulk 3'), call('query 1', true), call('query 2', true)]);
    // bulk 1 was running already; the queries go next, in their own order.
    expect(order).toEqual(['bulk 1', 'query 1', 'query 2', 'bulk 2', 'bulk 3']);
  });

  it("fails a call with the session's reason and keeps the session", async () => {
    const pool = sessions(1);
    const before = threadOf(await pool.run(['fine']));
    await expect(pool.run(['fine', 'refuse'])).rejects.toThrow('refused a text');
    expect(threadOf(await pool.run(['fine']))).toBe(before);
  });

  it('fails the call of a session that dies, and the next call runs on a fresh session', async () => {
    const pool = sessions(1);
    const before = threadOf(await pool.run(['x']));
    await expect(pool.run(['crash'])).rejects.toThrow(/exit/i);
    expect(threadOf(await pool.run(['y']))).not.toBe(before);
  });

  it('fails start and every call with the reason a session could not load the model, and the process stays up', async () => {
    const pool = sessions(2, { failLoad: 'no model file at /nowhere' });
    await expect(pool.start()).rejects.toThrow('no model file at /nowhere');
    await expect(pool.run(['x'])).rejects.toThrow('no model file at /nowhere');
  });

  it('fails waiting and later calls once closed', async () => {
    const pool = sessions(1, { holdMs: 100 });
    const outcomes = await Promise.allSettled([pool.run(['a']), pool.run(['b'])].map((call) => (void pool.close(), call)));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    await expect(pool.run(['c'])).rejects.toThrow();
  });

  it('refuses a size below 1', () => {
    expect(() => new EmbeddingSessions({ size: 0, workerData: {} })).toThrow(/size must be a positive integer/);
  });
});
