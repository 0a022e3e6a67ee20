// Conversation store benchmark: what keeping a conversation costs a request on Redis (ADR 0029),
// against the old session history's operations (one LRANGE to read, one RPUSH+LTRIM+PEXPIRE
// transaction to write, a claim script) measured on the same Redis in the same run.
//
// Run: npm run bench:conversation (node --experimental-transform-types --conditions=@aip/source tools/bench/conversation.bench.ts)
// Env: REDIS_URL (default redis://127.0.0.1:6379), BENCH_OPS (5000), BENCH_CONCURRENCY (16),
//      BENCH_HISTORY (items already in each conversation: 40).
//
// Per request the platform does: at the edge, claim with the task's link (one script); in the
// worker, recent (one script: the newest 50 items after the summary) and append (one script, then
// the owner index). The figures are per whole request (edge + worker), Node's work included.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ConversationStore, textItem } from '@aip/tasks';
import { closedLoop, type Figure } from './closed-loop.ts';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const OPS = Number(process.env['BENCH_OPS'] ?? 5_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const HISTORY = Number(process.env['BENCH_HISTORY'] ?? 40);
const SESSIONS = 200;
const RUN = `aip:bench:${randomUUID().slice(0, 8)}:`;

/** Runs `op` OPS times with CONCURRENCY in flight; latency per op. */
const measure = (name: string, op: (i: number) => Promise<unknown>): Promise<Figure> => closedLoop(name, OPS, CONCURRENCY, op);

const CLAIM_LUA = `local c = redis.call('GET', KEYS[1]) if c and c ~= ARGV[1] then return 0 end redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1`;
const turn = (role: 'user' | 'assistant', i: number) => (role === 'user' ? `Which sights are there in city number ${i}?` : `In city ${i} there are a museum, a park and an old town worth a visit.`);

async function main() {
  const redis = new Redis(REDIS_URL, { lazyConnect: false });
  const store = new ConversationStore(redis, { prefix: RUN });
  const session = (i: number) => `s${i % SESSIONS}`;
  // The same conversations in both shapes, HISTORY items each.
  for (let s = 0; s < SESSIONS; s++) {
    await store.claim('acme', `s${s}`, 'user:u');
    await store.append('acme', `s${s}`, Array.from({ length: HISTORY }, (_, i) => textItem(i % 2 ? 'assistant' : 'user', turn(i % 2 ? 'assistant' : 'user', i))));
    await redis.rpush(`${RUN}old:{acme:s${s}}:history`, ...Array.from({ length: HISTORY }, (_, i) => JSON.stringify({ role: i % 2 ? 'assistant' : 'user', content: turn(i % 2 ? 'assistant' : 'user', i) })));
  }
  const old = async (i: number) => {
    const key = `${RUN}old:{acme:${session(i)}}:history`;
    await redis.eval(CLAIM_LUA, 1, `${RUN}old:{acme:${session(i)}}:owner`, 'user:u', 604_800_000);
    await redis.lrange(key, -50, -1);
    await redis.multi().rpush(key, JSON.stringify({ role: 'user', content: turn('user', i) }), JSON.stringify({ role: 'assistant', content: turn('assistant', i) })).ltrim(key, -50, -1).pexpire(key, 604_800_000).exec();
  };
  const ours = async (i: number) => {
    await store.claim('acme', session(i), 'user:u', { link: `task:${i}` });
    await store.recent('acme', session(i), 50);
    await store.append('acme', session(i), [textItem('user', turn('user', i)), textItem('assistant', turn('assistant', i))]);
  };
  const floor = (i: number) => redis.get(`${RUN}floor:${i % SESSIONS}`);
  await measure('warm-up', ours);
  const figures = [await measure('one GET (round-trip floor)', floor), await measure('old session history (claim, read, write)', old), await measure('conversation store (claim+link, recent, append)', ours)];
  const base = figures[1]!;
  console.log(`\nconversation bench: ${OPS} requests, ${CONCURRENCY} in flight, ${SESSIONS} conversations of ${HISTORY}+ items, Redis ${REDIS_URL}\n`);
  console.log('| what | requests/s | p50 ms | p99 ms | p50 vs old |');
  console.log('|---|---:|---:|---:|---:|');
  for (const f of figures) console.log(`| ${f.name} | ${f.opsPerSecond.toFixed(0)} | ${f.p50Ms.toFixed(2)} | ${f.p99Ms.toFixed(2)} | ${(f.p50Ms / base.p50Ms).toFixed(2)}× |`);
  const keys = await redis.keys(`${RUN}*`);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  redis.disconnect();
}

await main();
