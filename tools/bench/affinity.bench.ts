// Session affinity against any-worker delivery, in one run (ADR 0012): three inference workers,
// each in front of its own mock upstream that keeps a simulated prefix (KV) cache — a prompt that
// begins like one this upstream answered recently pays prefill only for its new tokens — and
// multi-turn sessions through access with `session_id` (the platform keeps the history and sends
// the whole conversation every turn). With SESSION_AFFINITY on, a session's turns go to the worker
// that served it last; off, whichever worker pulls the request first takes it (the shared group).
// Prints time to first token of the later turns (where a cache can help) and of the first turns,
// and the share of prompt tokens the upstreams found cached.
// Run: npm run bench:affinity (builds first; starts the local broker if none runs).
// Env: BENCH_SESSIONS (8, at once), BENCH_TURNS (8), BENCH_PREFILL_MS_PER_TOKEN (0.5),
//      BENCH_WORDS_PER_TURN (120).
import { startMockLlm, type MockLlm } from '@aip/mock-llm';
import { ensureBroker } from '@aip/rocketmq-local';
import { createKey, deleteKeys, eventually, provisionNamespace, type RunningApp, startApp, startApps, stopApp, uniqueNamespace } from '@aip/testing';
import { Redis } from 'ioredis';
import { readStream } from './first-token.ts';
import { percentile } from './percentile.ts';

const SESSIONS = Number(process.env['BENCH_SESSIONS'] ?? 8);
const TURNS = Number(process.env['BENCH_TURNS'] ?? 8);
const PREFILL_MS_PER_TOKEN = Number(process.env['BENCH_PREFILL_MS_PER_TOKEN'] ?? 0.5);
const WORDS_PER_TURN = Number(process.env['BENCH_WORDS_PER_TURN'] ?? 120);
const WORKERS = 3;
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const THINK_MS = 50;

const broker = await ensureBroker();
process.env['ROCKETMQ_ENDPOINTS'] = broker.endpoints;
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');

interface Turn {
  turn: number;
  ttftMs: number;
  promptTokens: number;
  cachedTokens: number;
}

/** A user message of WORDS_PER_TURN words, different for every session and turn (no cache hit across sessions). */
function question(session: number, turn: number): string {
  return Array.from({ length: WORDS_PER_TURN }, (_, i) => `s${session}t${turn}w${i}`).join(' ');
}

/** One streamed turn: time to the first content chunk, and the usage the upstream reported. */
async function ask(url: string, key: string, sessionId: string | undefined, content: string): Promise<Omit<Turn, 'turn'>> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench', stream: true, stream_options: { include_usage: true }, ...(sessionId ? { session_id: sessionId } : {}), messages: [{ role: 'user', content }] }),
  });
  if (response.status !== 200) throw new Error(`status ${response.status}: ${await response.text()}`);
  const { text, firstAt } = await readStream(response);
  const ttftMs = firstAt - started;
  const usage = /"prompt_tokens":(\d+).*?"cached_tokens":(\d+)/s.exec(text);
  return { ttftMs, promptTokens: Number(usage?.[1] ?? 0), cachedTokens: Number(usage?.[2] ?? 0) };
}

/** Starts a limiter, three workers (each with its own upstream) and access; runs the sessions; stops them. */
async function run(label: string, affinity: boolean, mocks: MockLlm[]): Promise<Turn[]> {
  const namespace = uniqueNamespace(affinity ? 'affon' : 'affoff');
  await provisionNamespace(namespace);
  const shared = { REDIS_PREFIX: `${namespace}:`, ROCKETMQ_NAMESPACE: namespace, LOG_LEVEL: 'error', IP_RATE_LIMIT: '0', HISTORY_SUMMARY: 'off', HISTORY_TOKEN_BUDGET: '16000' };
  const apps: RunningApp[] = [];
  try {
    const worker = (i: number) => {
      const routing = { models: { bench: { providers: [{ name: `upstream-${i}`, kind: 'openai-compatible', baseUrl: mocks[i]!.url, model: 'm', firstTokenTimeoutMs: 30_000 }] } } };
      return startApp('inference', { ...shared, WORKER_ID: `bench-w${i}`, MODEL_ROUTING: JSON.stringify(routing), INFERENCE_SLOTS: '16', RAG_TOP_K: '0' });
    };
    await startApps(apps, [startApp('rate-limiter', { ...shared, SESSION_AFFINITY: String(affinity) }), ...Array.from({ length: WORKERS }, (_, i) => worker(i))]);
    const access = await startApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'bench', DEFAULT_POLICY: JSON.stringify({ id: 'bench', requestsPerMinute: 1_000_000, tokensPerMinute: 100_000_000, maxConcurrent: 10_000 }) });
    apps.push(access);
    const { key } = await createKey(access, ADMIN_TOKEN, { models: ['bench'] });
    // Ready is not yet choosable: each worker reports its lane on its first heartbeat.
    await eventually(async () => (await redis.zcount(`${shared.REDIS_PREFIX}rl:{w:default}:alive`, `(${Date.now()}`, '+inf')) === WORKERS, 'the workers to report their lanes', 60_000);
    // Warm the apps (JIT, connections) with requests outside any session: the first requests after a
    // start are several times slower, and every session's first turn would pay for it.
    for (let i = 0; i < 30; i++) await ask(access.url, key, undefined, `warm-up ${i}`);
    const turns: Turn[] = [];
    await Promise.all(
      Array.from({ length: SESSIONS }, async (_, s) => {
        await new Promise((r) => setTimeout(r, s * 20)); // sessions start spread over a moment, as users do
        for (let t = 1; t <= TURNS; t++) {
          turns.push({ turn: t, ...(await ask(access.url, key, `${namespace}-s${s}`, question(s, t))) });
          await new Promise((r) => setTimeout(r, THINK_MS));
        }
      }),
    );
    const later = turns.filter((t) => t.turn > 1).map((t) => t.ttftMs).sort((a, b) => a - b);
    console.log(`${label.padEnd(34)} later turns p50 ${percentile(later, 0.5).toFixed(1)} ms  p99 ${percentile(later, 0.99).toFixed(1)} ms  (${turns.length} turns)`);
    const slowest = [...turns].sort((a, b) => b.ttftMs - a.ttftMs).slice(0, 3);
    console.log(`  slowest: ${slowest.map((t) => `turn ${t.turn} ${t.ttftMs.toFixed(0)} ms (${t.cachedTokens}/${t.promptTokens} cached)`).join('; ')}`);
    // How access admitted them: at once (direct, with the affinity choice) or through the limiter.
    const metrics = await (await fetch(`${access.url}/metrics`)).text();
    console.log(`  ${metrics.split('\n').filter((line) => line.startsWith('aip_edge_admissions_total')).join('\n  ')}`);
    return turns;
  } finally {
    await Promise.all(apps.map(stopApp));
    await deleteKeys(redis, shared.REDIS_PREFIX);
  }
}

const mocksFor = () => Promise.all(Array.from({ length: WORKERS }, () => startMockLlm({ replyTokens: 20, prefixCache: true, prefillMsPerToken: PREFILL_MS_PER_TOKEN })));
const summary = (label: string, turns: Turn[]) => {
  const ttft = (filter: (t: Turn) => boolean) => turns.filter(filter).map((t) => t.ttftMs).sort((a, b) => a - b);
  const later = ttft((t) => t.turn > 1);
  const first = ttft((t) => t.turn === 1);
  const prompt = turns.filter((t) => t.turn > 1).reduce((sum, t) => sum + t.promptTokens, 0);
  const cached = turns.filter((t) => t.turn > 1).reduce((sum, t) => sum + t.cachedTokens, 0);
  return { label, laterP50: percentile(later, 0.5), laterP99: percentile(later, 0.99), firstP50: percentile(first, 0.5), cachedShare: prompt > 0 ? cached / prompt : 0, turns: turns.length };
};

try {
  // Fresh upstreams (empty caches) for each mode, so neither inherits the other's cache.
  const anyMocks = await mocksFor();
  const any = summary('any worker (affinity off)', await run('any worker (affinity off)', false, anyMocks));
  await Promise.all(anyMocks.map((m) => m.close()));
  const pinnedMocks = await mocksFor();
  const pinned = summary('session affinity on', await run('session affinity on', true, pinnedMocks));
  await Promise.all(pinnedMocks.map((m) => m.close()));

  console.log(`\n${SESSIONS} sessions at once × ${TURNS} turns, ${WORDS_PER_TURN} words per user turn, ${WORKERS} workers, prefill ${PREFILL_MS_PER_TOKEN} ms per uncached prompt token; time to first token through the platform (streaming)`);
  console.log('| delivery | turns 2+ p50 | turns 2+ p99 | first turns p50 | prompt tokens cached (turns 2+) |\n|---|---|---|---|---|');
  for (const r of [any, pinned]) console.log(`| ${r.label} | ${r.laterP50.toFixed(1)} ms | ${r.laterP99.toFixed(1)} ms | ${r.firstP50.toFixed(1)} ms | ${(r.cachedShare * 100).toFixed(0)} % |`);
  console.log(`\naffinity / any worker, turns 2+: p50 x${(pinned.laterP50 / any.laterP50).toFixed(2)} (${((1 - pinned.laterP50 / any.laterP50) * 100).toFixed(0)} % lower), p99 x${(pinned.laterP99 / any.laterP99).toFixed(2)}`);
} finally {
  redis.disconnect();
}
process.exit(0);
