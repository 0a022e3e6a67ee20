// Admission benchmark: decisions per second of @aip/rate-limit AdmissionControl against
// rate-limiter-flexible's RateLimiterRedis and against a trivial EVALSHA, on the same Redis, in
// one run, with the same number of operations in flight.
//
// Run: node --conditions=@aip/source tools/bench/limiter.bench.ts   (Node 24 type stripping; the
// condition makes @aip/rate-limit resolve to its TypeScript sources, so no build is needed)
// Env: REDIS_URL (default redis://127.0.0.1:6379), BENCH_OPS (20000), BENCH_CONCURRENCY (64),
//      BENCH_ROUNDS (2; after one warm-up round, rounds alternate between contenders and the
//      best round of each is reported).
//
// What each figure is:
// - ours admit+reconcile: one full request life (admit, then reconcile with the real usage), two
//   scripts; decisions/s counts admits. Policy: requestsPerMinute + tokensPerMinute +
//   maxConcurrent, limits high enough that every request is admitted (the costlier path).
// - ours admit only: the decision alone (one script), same policy.
// - ours admit, mostly rejected: 100 keys at 10 requests/minute each, so almost all are rejected.
// - rate-limiter-flexible consume: fixed 60 s window of `points` = requestsPerMinute (its one
//   INCR+PEXPIRE script), the same keys; one check where ours does five plus a reservation.
// - ioredis EVALSHA trivial: `return 1` through the same client: the round-trip floor from Node.
// - redis-benchmark EVALSHA trivial / admit script: the same scripts driven by Redis' own C client
//   (64 connections, no pipelining, no Node in the loop), if the redis-benchmark binary exists.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ADMIT_LUA, AdmissionControl, WorkerRegistry, type AdmitResult, type RateLimitPolicy } from '@aip/rate-limit';
import { closedLoop, type Figure } from './closed-loop.ts';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const OPS = Number(process.env['BENCH_OPS'] ?? 20_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const KEYS = 1_000;
const RUN = `aip:bench:${randomUUID().slice(0, 8)}:`;

/** Runs `op` OPS times with CONCURRENCY in flight; latency per op. */
const measure = (name: string, op: (i: number) => Promise<unknown>): Promise<Figure> => closedLoop(name, OPS, CONCURRENCY, op);

function best(figures: Figure[]): Figure {
  return figures.reduce((a, b) => (b.opsPerSecond > a.opsPerSecond ? b : a));
}

function hasRedisBenchmark(): boolean {
  return !spawnSync('redis-benchmark', ['--version'], { encoding: 'utf8' }).error;
}

function redisBenchmark(url: URL, args: string[]): number | undefined {
  const out = spawnSync('redis-benchmark', ['-h', url.hostname, '-p', url.port || '6379', '-n', '100000', '-c', String(CONCURRENCY), '-P', '1', '-q', ...args], { encoding: 'utf8' });
  // -q prints e.g. "EVALSHA ...: 123456.79 requests per second, p50=0.255 msec"; progress uses \r.
  const match = /([\d.]+) requests per second/.exec(out.stdout.split('\r').pop() ?? '');
  return match ? Number(match[1]) : undefined;
}

async function deleteRun(redis: Redis): Promise<void> {
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${RUN}*`, 'COUNT', 5_000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = nextCursor;
  } while (cursor !== '0');
}

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
  console.log(`limiter bench: ${OPS} ops x ${ROUNDS} rounds, ${CONCURRENCY} in flight on one ioredis connection, ${KEYS} keys; Node ${process.version}, Redis ${version} at ${REDIS_URL}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);

  const open: RateLimitPolicy = { id: 'bench-open', requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000, maxConcurrent: 1_000_000 };
  const tight: RateLimitPolicy = { id: 'bench-tight', requestsPerMinute: 10 };
  const trivialSha = String(await redis.script('LOAD', 'return 1'));
  const results = new Map<string, Figure[]>();

  for (let round = 0; round <= ROUNDS; round++) {
    // Round 0 warms up the JIT, the connection and the script caches; it is not reported.
    const prefix = `${RUN}r${round}:`;
    const ours = new AdmissionControl(redis, { prefix: `${prefix}ours:` });
    const theirs = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}rlf`, points: 1_000_000, duration: 60 });
    const theirsTight = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}rlft`, points: 10, duration: 60 });
    const keyOf = (i: number) => `key-${i % KEYS}`;
    // Session affinity: 16 workers holding lanes; sessions spread over the key count, so most
    // choices are sticky and a few are new, as in steady traffic.
    const registry = new WorkerRegistry(redis, { prefix: `${prefix}w:` });
    for (let w = 0; w < 16; w++) {
      await registry.claimLane(`worker-${w}`, 32);
      await registry.report({ workerId: `worker-${w}`, slots: 1_000_000, busy: 0 });
    }
    const figures = [
      await measure('rate-limiter-flexible consume', (i) => theirs.consume(keyOf(i), 1)),
      await measure('ours admit+reconcile', async (i) => {
        const result: AdmitResult = await ours.admit({ requestId: `a${i}`, tenantId: 't', keyId: keyOf(i), model: 'm', tokens: 500, policy: open });
        if (!result.admitted) throw new Error(`bench policy should admit everything, got ${JSON.stringify(result)}`);
        await ours.reconcile(result.reservationId, 200);
      }),
      await measure('ours admit only', (i) => ours.admit({ requestId: `b${i}`, tenantId: 't', keyId: keyOf(i), model: 'm', tokens: 500, policy: open })),
      await measure('ours admit, mostly rejected', (i) => ours.admit({ requestId: `c${i}`, tenantId: 't', keyId: `tight-${i % 100}`, model: 'm', tokens: 1, policy: tight })),
      await measure('rlf consume, mostly rejected', (i) =>
        theirsTight.consume(`tight-${i % 100}`, 1).catch((error: unknown) => {
          if (!(error instanceof RateLimiterRes)) throw error;
        }),
      ),
      await measure('ours chooseWorker (affinity, 16 workers)', (i) => registry.chooseWorker(`session-${i % KEYS}`, { maxLoadGap: 1_000_000 })),
      await measure('ioredis EVALSHA trivial', () => redis.evalsha(trivialSha, 0)),
    ];
    if (round > 0) for (const figure of figures) results.set(figure.name, [...(results.get(figure.name) ?? []), figure]);
    // Leftover reservations of "admit only" would otherwise sit in the global in-flight set.
    await deleteRun(redis);
  }

  const url = new URL(REDIS_URL);
  let rawTrivial: number | undefined;
  let rawAdmit: number | undefined;
  if (hasRedisBenchmark()) {
    rawTrivial = redisBenchmark(url, ['EVALSHA', trivialSha, '0']);
    const sha = String(await redis.script('LOAD', ADMIT_LUA));
    const tag = `${RUN}rb:{k:key-__rand_int__}`;
    // The admit script as AdmissionControl calls it (same policy as above, server clock). -r
    // applies to every placeholder, so keys and request ids are (almost all) fresh.
    rawAdmit = redisBenchmark(url, ['-r', '100000000', 'EVALSHA', sha, '4',
      `${tag}:state`, `${tag}:inflight`, `${tag}:res:__rand_int__`, `${RUN}rb:{global}:inflight`,
      '', 'id-__rand_int__', '500', '1000000', '', '', '1000000000', '1000000', '', '', '600000', '120000', '1000', 'key', 't', 'm', 'p']);
    await deleteRun(redis);
  }

  const rows = [...results.values()].map(best);
  const pad = 44;
  console.log(`\n${'contender'.padEnd(pad)}  ${'decisions/s'.padStart(12)}  ${'p50 ms'.padStart(7)}  ${'p99 ms'.padStart(7)}`);
  for (const row of rows) console.log(`${row.name.padEnd(pad)}  ${row.opsPerSecond.toFixed(0).padStart(12)}  ${row.p50Ms.toFixed(2).padStart(7)}  ${row.p99Ms.toFixed(2).padStart(7)}`);
  if (rawTrivial === undefined) console.log('redis-benchmark not found (or failed): raw EVALSHA figures skipped');
  else {
    console.log(`${'redis-benchmark EVALSHA trivial (C, -P 1)'.padEnd(pad)}  ${rawTrivial.toFixed(0).padStart(12)}`);
    if (rawAdmit !== undefined) console.log(`${'redis-benchmark EVALSHA admit script (C, -P 1)'.padEnd(pad)}  ${rawAdmit.toFixed(0).padStart(12)}`);
  }

  const rate = (name: string) => rows.find((row) => row.name === name)?.opsPerSecond ?? NaN;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const admitOnly = rate('ours admit only');
  const rlf = rate('rate-limiter-flexible consume');
  console.log('\nratios');
  console.log(`  ours admit+reconcile / rate-limiter-flexible consume:    ${ratio(rate('ours admit+reconcile'), rlf)}`);
  console.log(`  ours admit only      / rate-limiter-flexible consume:    ${ratio(admitOnly, rlf)}`);
  console.log(`  ours mostly rejected / rlf mostly rejected:              ${ratio(rate('ours admit, mostly rejected'), rate('rlf consume, mostly rejected'))}`);
  console.log(`  ours admit only      / ioredis EVALSHA trivial:          ${ratio(admitOnly, rate('ioredis EVALSHA trivial'))}`);
  console.log(`  chooseWorker         / ours admit only:                  ${ratio(rate('ours chooseWorker (affinity, 16 workers)'), admitOnly)}`);
  if (rawTrivial !== undefined) {
    console.log(`  ours admit only      / redis-benchmark EVALSHA trivial:  ${ratio(admitOnly, rawTrivial)}`);
    if (rawAdmit !== undefined) console.log(`  admit script / trivial script (both redis-benchmark):   ${ratio(rawAdmit, rawTrivial)}`);
  }
  redis.disconnect();
}

await main();
