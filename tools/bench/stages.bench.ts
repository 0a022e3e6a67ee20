// Where the time of one request goes, stage by stage, at low load: streaming chat requests one
// after another (100 ms apart) through access (one hop, ADR 0025), each split by the timestamps the
// task records itself — access received and stored it (createdAt), a worker started it
// (startedAt), the upstream's first token reached the worker (firstTokenAt) — and the client's
// own clock; next to the mock upstream answering directly, in the same run. The clocks are the
// same machine's, in ms.
// Run: npm run bench:stages (builds first; starts the local broker if none runs). Env: BENCH_REQUESTS (200).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startMockLlm } from '@aip/mock-llm';
import { ensureBroker } from '@aip/rocketmq-local';
import { TaskStore } from '@aip/tasks';
import { Redis } from 'ioredis';
import { percentile } from './percentile.ts';

const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 200);
const WARMUP = 100;
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const root = join(import.meta.dirname, '..', '..');

const broker = await ensureBroker();
const mock = await startMockLlm({ replyTokens: 20 });
const prefix = `stages${Date.now()}:`;
const routing = { models: { bench: { providers: [{ name: 'bench-mock', kind: 'openai-compatible', baseUrl: mock.url, model: 'm', firstTokenTimeoutMs: 10_000 }] } } };
const env = { ...process.env, ROCKETMQ_ENDPOINTS: broker.endpoints, LOG_LEVEL: 'error', ADMIN_TOKEN, MODELS: 'bench', MODEL_ROUTING: JSON.stringify(routing), IP_RATE_LIMIT: '0', RAG_TOP_K: '0', REDIS_PREFIX: prefix, DEFAULT_POLICY: JSON.stringify({ id: 'bench', requestsPerMinute: 1_000_000, tokensPerMinute: 100_000_000, maxConcurrent: 10_000 }) };
const port = 3905;
const children: ChildProcess[] = ['rate-limiter', 'inference', 'access'].map((name) => spawn(process.execPath, [join(root, 'apps', name, 'dist', 'main.js')], { env: { ...env, PORT: name === 'access' ? String(port) : '0' }, stdio: 'inherit' }));
const base = `http://127.0.0.1:${port}`;
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const tasks = new TaskStore(redis, { prefix });

/** One streamed request: the client's times and the task's own. */
async function measure(key: string) {
  const sentAt = Date.now();
  const started = performance.now();
  const response = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'hello there' }] }) });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let firstAt = 0;
  let ttft = NaN;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (!firstAt && /"content":"[^"]/.test(text)) {
      firstAt = Date.now();
      ttft = performance.now() - started;
    }
  }
  const task = await tasks.get(response.headers.get('x-task-id') ?? '');
  if (response.status !== 200 || !task?.startedAt || !task.firstTokenAt) throw new Error(`status ${response.status}`);
  return { ttft, edge: task.createdAt - sentAt, toWorker: task.startedAt - task.createdAt, worker: task.firstTokenAt - task.startedAt, back: firstAt - task.firstTokenAt };
}

try {
  for (let i = 0; i < 120 && !(await fetch(`${base}/health/ready`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 500));
  await new Promise((r) => setTimeout(r, 3_000)); // consumers subscribed and polling
  const { key } = (await (await fetch(`${base}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: 'bench' }) })).json()) as { key: string };
  const rows: Awaited<ReturnType<typeof measure>>[] = [];
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    const row = await measure(key);
    if (i >= WARMUP) rows.push(row);
    await new Promise((r) => setTimeout(r, 100));
  }
  const direct: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const response = await fetch(`${mock.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hello there' }] }) });
    await response.text();
    direct.push(performance.now() - started);
  }
  const figure = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `${percentile(sorted, 0.5).toFixed(1)} ms | ${percentile(sorted, 0.9).toFixed(1)} ms`;
  };
  console.log(`\n${REQUESTS} streaming requests one at a time, 100 ms apart, after ${WARMUP} for warm-up; one hop\n`);
  console.log('| stage | p50 | p90 |\n|---|---|---|');
  console.log(`| client → access stored the task (HTTP, key, validation, task record) | ${figure(rows.map((r) => r.edge))} |`);
  console.log(`| stored → a worker started it (admission script, publish, broker hop, worker's claim) | ${figure(rows.map((r) => r.toWorker))} |`);
  console.log(`| started → first token at the worker (context, model client, upstream) | ${figure(rows.map((r) => r.worker))} |`);
  console.log(`| first token → client (Redis stream, SSE) | ${figure(rows.map((r) => r.back))} |`);
  console.log(`| **time to first token through the platform** | ${figure(rows.map((r) => r.ttft))} |`);
  console.log(`| the mock upstream directly (whole streamed answer) | ${figure(direct)} |`);
} finally {
  children.forEach((child) => child.kill('SIGTERM'));
  redis.disconnect();
  await mock.close();
}
process.exit(0);
