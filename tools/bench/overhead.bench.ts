// Platform overhead: the same streaming load at a fixed rate against the mock upstream directly
// and through the platform, in one run, along both request paths: access admitting at once (one
// hop: access → ai-inference → inference → Redis stream → access, ADR 0025) and, as the baseline,
// every request through the limiter (ADMISSION_FAST_PATH=false: access → ai-request → rate-limiter
// → ai-inference → …). Prints p50/p99 time to first token for each and what the platform adds.
// Then, on the one-hop path, a load at each of BENCH_RATES and a capacity search: the rate raised
// until what the platform adds at p99 passes 250 ms (or requests fail). Every phase through the
// platform prints the CPU each process spent per request (tools/bench/cpu.ts) and the ceiling that
// follows on this machine's cores.
// Run: npm run bench:overhead (builds first; starts the local broker if none runs).
// Env: BENCH_RPS (100), BENCH_SECONDS (10), BENCH_RATES (10,100,300; empty: none),
//      BENCH_CAPACITY (1: search; 0: skip), BENCH_CAPACITY_P99_MS (250), BENCH_COMPARE (0: skip the
//      two-hop / one-hop comparison at BENCH_RPS), BENCH_CPU_PROFILE_DIR (each app writes a CPU profile
//      there; summarise with node tools/bench/profile-summary.ts <dir>).
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { startMockLlm } from '@aip/mock-llm';
import { ensureBroker } from '@aip/rocketmq-local';
import { readStream } from './first-token.ts';
import { cpuTable, machineProcesses, meterCpu, type TrackedProcess } from './cpu.ts';
import { percentile } from './percentile.ts';

const RATE = Number(process.env['BENCH_RPS'] ?? 100);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const RATES = (process.env['BENCH_RATES'] ?? '10,100,300').split(',').filter(Boolean).map(Number);
const CAPACITY = process.env['BENCH_CAPACITY'] !== '0';
const COMPARE = process.env['BENCH_COMPARE'] !== '0';
const PROFILE_DIR = process.env['BENCH_CPU_PROFILE_DIR'];
const CAPACITY_P99_MS = Number(process.env['BENCH_CAPACITY_P99_MS'] ?? 250);
const root = join(import.meta.dirname, '..', '..');
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

const broker = await ensureBroker();
const mock = await startMockLlm({ replyTokens: 20 });
const routing = { models: { bench: { providers: [{ name: 'bench-mock', kind: 'openai-compatible', baseUrl: mock.url, model: 'm', firstTokenTimeoutMs: 10_000, capabilities: ['images'] }] } } };
const env = { ...process.env, ROCKETMQ_ENDPOINTS: broker.endpoints, LOG_LEVEL: 'error', ADMIN_TOKEN, MODELS: 'bench', MODEL_ROUTING: JSON.stringify(routing), IP_RATE_LIMIT: '0', INFERENCE_SLOTS: '256', DEFAULT_POLICY: JSON.stringify({ id: 'bench', requestsPerMinute: 1_000_000, tokensPerMinute: 100_000_000, maxConcurrent: 10_000 }) };

/** One platform (rate-limiter, inference, access) on its own Redis prefix; its access on `port`. */
async function startPlatform(port: number, fastPath: boolean) {
  const own = { ...env, REDIS_PREFIX: `bench${Date.now()}-${port}:`, ADMISSION_FAST_PATH: String(fastPath) };
  const names = ['rate-limiter', 'inference', 'access'];
  // With BENCH_CPU_PROFILE_DIR each app writes a V8 CPU profile there when it stops (tools/bench/profile-summary.ts reads them).
  const profile = (name: string) => (PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}-${port}.cpuprofile`] : []);
  const children: ChildProcess[] = names.map((name) => spawn(process.execPath, [...profile(name), join(root, 'apps', name, 'dist', 'main.js')], { env: { ...own, PORT: name === 'access' ? String(port) : '0' }, stdio: 'inherit' }));
  const processes: TrackedProcess[] = [...names.map((name, i) => ({ name, pid: children[i]!.pid! })), ...machineProcesses()];
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120 && !(await fetch(`${base}/health/ready`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 500));
  await new Promise((r) => setTimeout(r, 3_000)); // consumers subscribed and polling
  const { key } = (await (await fetch(`${base}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: 'bench' }) })).json()) as { key: string };
  return { url: `${base}/v1/chat/completions`, headers: { authorization: `Bearer ${key}` }, processes, stop: () => Promise.all(children.map((child) => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
    child.once('exit', resolve);
    child.kill('SIGTERM');
  }))) };
}

/** What an agent sends besides its messages: five function tools (~2 KB), forwarded as they are (ADR 0024). */
const AGENT_FIELDS = {
  tools: ['get_weather', 'get_time', 'search_docs', 'create_ticket', 'send_email'].map((name) => ({
    type: 'function',
    function: { name, description: `The ${name.replace('_', ' ')} tool of a help-desk agent: call it when the user asks for it.`, parameters: { type: 'object', properties: { query: { type: 'string', description: 'What to look up' }, limit: { type: 'integer' } }, required: ['query'] } },
  })),
  tool_choice: 'auto',
  seed: 7,
};

/**
 * A vision request: one 64 KiB PNG inline, which the platform stores in Redis at the edge and the
 * worker redeems (the claim check, ADR 0028) — the broker carries a reference, the upstream the image.
 */
const IMAGE_FIELDS = {
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hello there' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(65_528, 7)]).toString('base64')}` } }] }],
};

/** Time to the first answer chunk: text, or a tool call. */
async function ttft(url: string, headers: Record<string, string>, model: string, extra: Record<string, unknown> = {}): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hello there' }], ...extra }) });
  const { firstAt } = await readStream(response);
  const first = firstAt - started;
  if (response.status !== 200 || Number.isNaN(first)) throw new Error(`status ${response.status}`);
  return first;
}

async function load(name: string, call: () => Promise<number>, rate = RATE) {
  const latencies: number[] = [];
  let failures = 0;
  const reasons = new Map<string, number>();
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < rate * SECONDS; i++) {
    const due = started + (i * 1_000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(call().then((ms) => void latencies.push(ms), (error: unknown) => {
      failures++;
      reasons.set(String(error), (reasons.get(String(error)) ?? 0) + 1);
    }));
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  const result = { name, rate, requests: rate * SECONDS, failures, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
  console.log(`${name.padEnd(22)} ${rate} req/s x ${SECONDS} s: p50 ${result.p50.toFixed(1)} ms  p99 ${result.p99.toFixed(1)} ms  failures ${failures}${reasons.size ? ` (${[...reasons].map(([reason, count]) => `${count} × ${reason}`).join('; ')})` : ''}`);
  return result;
}

/** Rates of the capacity search, lowest first: it stops at the first that fails its bound. */
const CAPACITY_STEPS = [25, 50, 75, 100, 150, 200, 300, 400, 500];

/**
 * The one-hop path at each of RATES, then the capacity search; each rate against the mock measured
 * directly at the same rate, with the CPU every process spent per request.
 */
async function rateSweep() {
  const platform = await startPlatform(3902, true);
  const rows: string[] = [];
  const measure = async (rate: number) => {
    const direct = await load('mock upstream direct', () => ttft(`${mock.url}/chat/completions`, {}, 'm'), rate);
    const meter = meterCpu(platform.processes, 'benchmark client + mock upstream');
    const started = performance.now();
    const through = await load('one hop', () => ttft(platform.url, platform.headers, 'bench'), rate);
    const seconds = (performance.now() - started) / 1_000;
    const added = { p50: through.p50 - direct.p50, p99: through.p99 - direct.p99 };
    rows.push(`| ${rate} req/s | ${direct.p50.toFixed(1)} / ${direct.p99.toFixed(1)} ms | ${through.p50.toFixed(1)} / ${through.p99.toFixed(1)} ms | +${added.p50.toFixed(1)} / +${added.p99.toFixed(1)} ms | ${through.failures} |`);
    console.log(`\nCPU at ${rate} req/s (one hop; ${through.requests} requests over ${seconds.toFixed(1)} s, until the last answer):\n${cpuTable(meter.stop(), through.requests, seconds)}\n`);
    return { added, failures: through.failures };
  };
  try {
    await load('warm-up, one hop', () => ttft(platform.url, platform.headers, 'bench'), 10);
    for (const rate of RATES) await measure(rate);
    let capacity: number | undefined;
    if (CAPACITY) {
      capacity = 0;
      for (const rate of CAPACITY_STEPS) {
        const { added, failures } = await measure(rate);
        if (failures > 0 || added.p99 > CAPACITY_P99_MS) break;
        capacity = rate;
      }
    }
    console.log(`\n| one hop, ${SECONDS} s per rate | direct p50 / p99 | platform p50 / p99 | added p50 / p99 | failures |\n|---|---|---|---|---|\n${rows.join('\n')}`);
    if (capacity !== undefined) console.log(`\ncapacity (highest of ${CAPACITY_STEPS.join(', ')} req/s with added p99 ≤ ${CAPACITY_P99_MS} ms and no failures): ${capacity ? `${capacity} req/s` : `below ${CAPACITY_STEPS[0]} req/s`}`);
  } finally {
    await platform.stop();
  }
}

// One platform at a time: two would share the two cores.
const results: Awaited<ReturnType<typeof load>>[] = [];
try {
  const direct = await load('mock upstream direct', () => ttft(`${mock.url}/chat/completions`, {}, 'm'));
  const directAgent = await load('direct, agent fields', () => ttft(`${mock.url}/chat/completions`, {}, 'm', AGENT_FIELDS));
  const directImage = await load('direct, 64 KiB image', () => ttft(`${mock.url}/chat/completions`, {}, 'm', IMAGE_FIELDS));
  results.push(direct, directAgent, directImage);
  const added: Record<string, { plain: number[]; agent: number[]; image?: number[] }> = {};
  const paths = [['two hops (limiter)', false], ['one hop (admitted by access)', true]] as const;
  for (const [label, fastPath] of COMPARE ? paths : []) {
    const platform = await startPlatform(fastPath ? 3901 : 3900, fastPath);
    try {
      await load(`warm-up, ${label}`, () => ttft(platform.url, platform.headers, 'bench'));
      const plain = await load(`${label}`, () => ttft(platform.url, platform.headers, 'bench'));
      const agent = await load(`${label}, agent fields`, () => ttft(platform.url, platform.headers, 'bench', AGENT_FIELDS));
      results.push(plain, agent);
      added[label] = { plain: [plain.p50 - direct.p50, plain.p99 - direct.p99], agent: [agent.p50 - directAgent.p50, agent.p99 - directAgent.p99] };
      if (fastPath) {
        // The claim check on the path users take (one hop): what storing and redeeming an image adds.
        const image = await load(`${label}, 64 KiB image`, () => ttft(platform.url, platform.headers, 'bench', IMAGE_FIELDS));
        results.push(image);
        added[label].image = [image.p50 - directImage.p50, image.p99 - directImage.p99];
      }
    } finally {
      await platform.stop();
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
  console.log(`\n${cpus().length} cores, Node ${process.version}; ${RATE} req/s for ${SECONDS} s; time to first token (text or tool call), streaming, everything on this machine`);
  console.log(`| path | p50 TTFT | p99 TTFT | failures |\n|---|---|---|---|`);
  for (const r of results) console.log(`| ${r.name} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.failures} |`);
  const ms = (value: number | undefined) => (value === undefined ? '–' : `+${value.toFixed(1)} ms`);
  console.log(`\n| added by the platform | p50 | p99 | p50, five tools forwarded | p99, five tools forwarded | p50, 64 KiB image (claim check) | p99, 64 KiB image |\n|---|---|---|---|---|---|---|`);
  for (const [label, { plain, agent, image }] of Object.entries(added)) console.log(`| ${label} | ${ms(plain[0])} | ${ms(plain[1])} | ${ms(agent[0])} | ${ms(agent[1])} | ${ms(image?.[0])} | ${ms(image?.[1])} |`);
  const [before, after] = Object.values(added);
  if (before && after) console.log(`\none hop / two hops, added p50: x${(after.plain[0]! / before.plain[0]!).toFixed(2)}, added p99: x${(after.plain[1]! / before.plain[1]!).toFixed(2)}`);
  if (RATES.length > 0 || CAPACITY) await rateSweep();
} finally {
  await mock.close();
}
process.exit(0);
