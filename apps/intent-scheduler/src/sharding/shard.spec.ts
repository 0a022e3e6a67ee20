import { pino } from 'pino';
import type { ShardLease } from './shard-lock.ts';
import { LockLostError, ShardRunner, type ShardResult } from './shard-runner.ts';
import { fnv1a, shardOf, shardOrder } from './shard.ts';

describe('sharding users', () => {
  it('puts a user in the same shard every time, in range', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c); // the FNV-1a reference value
    for (const user of ['u1', 'alice', '用户']) {
      const shard = shardOf('acme', user, 16);
      expect(shard).toBe(shardOf('acme', user, 16));
      expect(shard).toBeGreaterThanOrEqual(0);
      expect(shard).toBeLessThan(16);
    }
  });

  it('spreads users over the shards', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf('acme', `user-${i}`, 16)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1_200);
  });

  it('a tick visits every shard once, from any start', () => {
    expect(shardOrder(4, 2)).toEqual([2, 3, 0, 1]);
    expect(shardOrder(4, -1)).toEqual([3, 0, 1, 2]);
    expect(new Set(shardOrder(16, 7)).size).toBe(16);
  });
});

/** Locks as Redis holds them (SET NX, compare-and-delete), in memory. */
class MemoryLocks {
  readonly held = new Map<number, string>();
  private n = 0;
  constructor(private readonly owner: string) {}
  async acquire(shard: number): Promise<ShardLease | undefined> {
    if (this.held.has(shard)) return undefined;
    const token = `${this.owner}:${++this.n}`;
    this.held.set(shard, token);
    return {
      shard,
      token,
      check: async () => this.held.get(shard) === token,
      release: async () => void (this.held.get(shard) === token && this.held.delete(shard)),
    };
  }
  shared(owner: string) {
    const other = new MemoryLocks(owner);
    (other as unknown as { held: Map<number, string> }).held = this.held;
    return other;
  }
}

const logger = pino({ level: 'silent' });

function freshness() {
  const fresh = new Set<number>();
  return { fresh, isFresh: async (shard: number) => fresh.has(shard), markFresh: async (shard: number) => void fresh.add(shard) };
}

describe('ShardRunner', () => {
  it('works every free shard once and releases every lock', async () => {
    const locks = new MemoryLocks('a');
    const worked: number[] = [];
    const runner = new ShardRunner({ shards: 4, locks, freshness: freshness(), work: async (shard) => void worked.push(shard), logger, start: () => 1 });
    const results = await runner.tick();
    expect(worked).toEqual([1, 2, 3, 0]);
    expect([...results!.values()]).toEqual(['worked', 'worked', 'worked', 'worked']);
    expect(locks.held.size).toBe(0);
  });

  it('skips shards another replica holds and shards worked in the last half tick', async () => {
    const locks = new MemoryLocks('a');
    const other = await locks.shared('b').acquire(0);
    const marks = freshness();
    marks.fresh.add(2);
    const worked: number[] = [];
    const runner = new ShardRunner({ shards: 4, locks, freshness: marks, work: async (shard) => void worked.push(shard), logger, start: () => 0 });
    const results = await runner.tick();
    expect(worked).toEqual([1, 3]);
    expect(Object.fromEntries(results!)).toEqual({ 0: 'locked', 1: 'worked', 2: 'recent', 3: 'worked' });
    expect(locks.held.get(0)).toBe(other!.token); // the other replica's lock is untouched
  });

  it('two replicas ticking together work each shard exactly once', async () => {
    const a = new MemoryLocks('a');
    const b = a.shared('b');
    const marks = freshness();
    const worked: string[] = [];
    const work = (who: string) => async (shard: number) => {
      worked.push(`${shard}`);
      await new Promise((resolve) => setImmediate(resolve)); // let the other replica interleave
      void who;
    };
    const ra = new ShardRunner({ shards: 8, locks: a, freshness: marks, work: work('a'), logger, start: () => 0 });
    const rb = new ShardRunner({ shards: 8, locks: b, freshness: marks, work: work('b'), logger, start: () => 0 });
    const [resultsA, resultsB] = await Promise.all([ra.tick(), rb.tick()]);
    expect(worked.sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    const byShard = [...resultsA!.entries()].map(([shard, result]) => [result, resultsB!.get(shard)] as [ShardResult, ShardResult | undefined]);
    for (const pair of byShard) expect(pair.filter((r) => r === 'worked')).toHaveLength(1);
  });

  it('a shard whose lock was lost stops, is reported as lost, and the others go on', async () => {
    const locks = new MemoryLocks('a');
    const worked: number[] = [];
    const runner = new ShardRunner({
      shards: 3,
      locks,
      freshness: freshness(),
      work: async (shard, lease) => {
        if (shard === 1) {
          locks.held.set(1, 'stolen-by-b'); // our lock expired and another replica took it
          if (!(await lease.check())) throw new LockLostError('shard 1');
        }
        worked.push(shard);
      },
      logger,
      start: () => 0,
    });
    const results = await runner.tick();
    expect(Object.fromEntries(results!)).toEqual({ 0: 'worked', 1: 'lost', 2: 'worked' });
    expect(worked).toEqual([0, 2]);
    expect(locks.held.get(1)).toBe('stolen-by-b'); // release did not delete the other replica's lock
  });

  it('never overlaps a slow tick with the next, and stop() waits for the running one', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let finished = false;
    const runner = new ShardRunner({ shards: 1, locks: new MemoryLocks('a'), freshness: freshness(), work: async () => { await gate; finished = true; }, logger });
    const first = runner.tick();
    expect(first).toBeDefined();
    expect(runner.tick()).toBeUndefined();
    const stopping = runner.stop();
    release();
    await stopping;
    expect(finished).toBe(true);
    expect(runner.tick()).toBeUndefined();
  });
});
