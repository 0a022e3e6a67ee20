// What the operators' features cost the request path (issue 16): the same streaming load through
// the platform with them off, then on, in one run against the same mock upstream and broker —
//   off:      no usage ledger (USAGE_LEDGER=off), no tracing, no budget;
//   ledger + tracing: every request's end written to the ledger (embedded PGlite), every app
//             exporting spans (OTLP/HTTP to a receiver in this process that accepts and drops them);
//   + budget: the same, and the bench tenant under a spend budget (reserved at admission and
//             settled at the end; budgeted requests take the limiter's path, ADR 0031).
// Each configuration is its own platform (rate-limiter, inference, access), warmed up, then loaded
// at each of BENCH_RATES; the configurations run in turn, twice (off, on, budget, off, on, budget).
// Prints time to first token p50/p99 per configuration and rate, and the difference to `off`.
// Run: npm run bench:ops (builds first; starts the local broker if none runs).
// Env: BENCH_RATES (10,50), BENCH_SECONDS (10), BENCH_ROUNDS (2).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMockLlm } from '@aip/mock-llm';
import { ensureBroker } from '@aip/rocketmq-local';
import { createKey, type RunningApp, startApp, startApps, stopApp } from '@aip/testing';
import { readStream } from './first-token.ts';
import { percentile } from './percentile.ts';

const RATES = (process.env['BENCH_RATES'] ?? '10,50').split(',').filter(Boolean).map(Number);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

const broker = await ensureBroker();
process.env['ROCKETMQ_ENDPOINTS'] = broker.endpoints;
const mock = await startMockLlm({ replyTokens: 20 });
// An OTLP receiver that takes the spans and drops them: a collector that keeps up.
const receiver = createServer((request, response) => {
  request.resume();
  request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const otlp = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

const routing = { models: { bench: { providers: [{ name: 'bench-mock', kind: 'openai-compatible', baseUrl: mock.url, model: 'm', firstTokenTimeoutMs: 10_000, price: { input: 1, output: 2 } }] } } };
const base = { LOG_LEVEL: 'error', ADMIN_TOKEN, MODELS: 'bench', MODEL_ROUTING: JSON.stringify(routing), IP_RATE_LIMIT: '0', INFERENCE_SLOTS: '256', RAG_TOP_K: '0', DEFAULT_POLICY: JSON.stringify({ id: 'bench', requestsPerMinute: 1_000_000, tokensPerMinute: 100_000_000, maxConcurrent: 10_000 }) };
const CONFIGS = {
  off: { env: { USAGE_LEDGER: 'off' }, budget: false },
  'ledger + tracing': { env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, budget: false },
  '+ budget': { env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, budget: true },
} as const;
type Config = keyof typeof CONFIGS;

async function ttft(url: string, key: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'bench', stream: true, max_tokens: 64, messages: [{ role: 'user', content: 'hello there' }] }) });
  const { firstAt } = await readStream(response);
  if (response.status !== 200 || Number.isNaN(firstAt)) throw new Error(`status ${response.status}`);
  return firstAt - started;
}

/** An open-loop load: `rate` requests per second for SECONDS; sorted latencies and failures. */
async function load(call: () => Promise<number>, rate: number): Promise<{ latencies: number[]; failures: number }> {
  const latencies: number[] = [];
  let failures = 0;
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < rate * SECONDS; i++) {
    const wait = started + (i * 1_000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(call().then((ms) => void latencies.push(ms), () => void failures++));
  }
  await Promise.all(pending);
  return { latencies: latencies.sort((a, b) => a - b), failures };
}

const results = new Map<string, number[][]>(); // `${config}@${rate}` → latencies of each round
const failed = new Map<string, number>();

async function run(config: Config, round: number) {
  const { env, budget } = CONFIGS[config];
  const shared = { ...base, ...env, REDIS_PREFIX: `ops${Date.now()}-${round}:` };
  const apps: RunningApp[] = [];
  try {
    await startApps(apps, [startApp('rate-limiter', shared), startApp('inference', shared), startApp('access', shared)]);
    const access = apps.find((app) => app.name === 'access')!;
    const { key } = await createKey(access, ADMIN_TOKEN, { tenantId: 'bench', models: ['bench'] });
    if (budget) {
      const put = await fetch(`${access.url}/admin/config/policies`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ budgets: [{ id: 'bench-month', tenantId: 'bench', amountUsd: 1_000_000, period: 'month' }] }) });
      if (put.status !== 200) throw new Error(`policies: ${put.status}`);
      await new Promise((r) => setTimeout(r, 2_000)); // every instance polls the document within a second
    }
    await load(() => ttft(access.url, key), 10); // warm-up: JIT, connections, the ledger's first open
    for (const rate of RATES) {
      const { latencies, failures } = await load(() => ttft(access.url, key), rate);
      const id = `${config}@${rate}`;
      results.set(id, [...(results.get(id) ?? []), latencies]);
      failed.set(id, (failed.get(id) ?? 0) + failures);
      console.log(`round ${round} ${config.padEnd(17)} ${rate} req/s: p50 ${percentile(latencies, 0.5).toFixed(1)} ms  p99 ${percentile(latencies, 0.99).toFixed(1)} ms  failures ${failures}`);
    }
  } finally {
    await Promise.all(apps.map(stopApp));
  }
}

try {
  for (let round = 1; round <= ROUNDS; round++) for (const config of Object.keys(CONFIGS) as Config[]) await run(config, round);
  console.log(`\n${ROUNDS} rounds, ${SECONDS} s per rate, streaming chat, time to first token through the platform (all rounds pooled)\n`);
  console.log('| configuration | rate | p50 | p99 | p50 vs off | p99 vs off | failures |\n|---|---|---|---|---|---|---|');
  for (const rate of RATES) {
    const pooled = (config: Config) => (results.get(`${config}@${rate}`) ?? []).flat().sort((a, b) => a - b);
    const off = pooled('off');
    for (const config of Object.keys(CONFIGS) as Config[]) {
      const latencies = pooled(config);
      const [p50, p99] = [percentile(latencies, 0.5), percentile(latencies, 0.99)];
      const delta = (value: number, baseline: number) => (config === 'off' ? '—' : `${value - baseline >= 0 ? '+' : ''}${(value - baseline).toFixed(1)} ms`);
      console.log(`| ${config} | ${rate} req/s | ${p50.toFixed(1)} ms | ${p99.toFixed(1)} ms | ${delta(p50, percentile(off, 0.5))} | ${delta(p99, percentile(off, 0.99))} | ${failed.get(`${config}@${rate}`) ?? 0} |`);
    }
  }
} finally {
  receiver.close();
  await mock.close();
}
process.exit(0);
