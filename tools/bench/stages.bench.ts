// Where the time of one request goes, stage by stage, at low load: streaming chat requests one
// after another (100 ms apart by default) through access (one hop, ADR 0025), each split by the timestamps the
// task records itself — access received and stored it (createdAt), a worker started it
// (startedAt), the upstream's first token reached the worker (firstTokenAt) — and the client's
// own clock; next to the mock upstream answering directly, in the same run. The clocks are the
// same machine's, in ms.
// The direct baseline and a Redis PING are timed with the same pause before each, since on this
// machine (a KVM guest: haltpoll idle) a core that went idle takes a while to wake: the PING shows
// what one round trip costs after that pause, against back to back. BENCH_GAP_MS=0 runs the
// requests back to back instead, to show how much of the added time the pauses make.
// Run: npm run bench:stages (builds first; starts the local broker if none runs). Env: BENCH_REQUESTS (200), BENCH_GAP_MS (100).
import { startMockLlm } from '@aip/mock-llm';
import { ensureBroker } from '@aip/rocketmq-local';
import { TaskStore } from '@aip/tasks';
import { createKey, type RunningApp, startApp, startApps, stopApp } from '@aip/testing';
import { Redis } from 'ioredis';
import { readStream } from './first-token.ts';
import { percentile } from './percentile.ts';

const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 200);
const WARMUP = 100;
const GAP_MS = Number(process.env['BENCH_GAP_MS'] ?? 100);
const pause = () => (GAP_MS > 0 ? new Promise((r) => setTimeout(r, GAP_MS)) : Promise.resolve());
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

const broker = await ensureBroker();
process.env['ROCKETMQ_ENDPOINTS'] = broker.endpoints;
const mock = await startMockLlm({ replyTokens: 20 });
const prefix = `stages${Date.now()}:`;
const routing = { models: { bench: { providers: [{ name: 'bench-mock', kind: 'openai-compatible', baseUrl: mock.url, model: 'm', firstTokenTimeoutMs: 10_000 }] } } };
const env = { LOG_LEVEL: 'error', ADMIN_TOKEN, MODELS: 'bench', MODEL_ROUTING: JSON.stringify(routing), IP_RATE_LIMIT: '0', RAG_TOP_K: '0', REDIS_PREFIX: prefix, DEFAULT_POLICY: JSON.stringify({ id: 'bench', requestsPerMinute: 1_000_000, tokensPerMinute: 100_000_000, maxConcurrent: 10_000 }) };
const apps: RunningApp[] = [];
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const tasks = new TaskStore(redis, { prefix });

/** One streamed request: the client's times and the task's own. */
async function measure(url: string, key: string) {
  const sentAt = Date.now();
  const started = performance.now();
  const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'hello there' }] }) });
  const { firstAt, firstAtWall } = await readStream(response);
  const task = await tasks.get(response.headers.get('x-task-id') ?? '');
  if (response.status !== 200 || !task?.startedAt || !task.firstTokenAt) throw new Error(`status ${response.status}`);
  return { ttft: firstAt - started, edge: task.createdAt - sentAt, toWorker: task.startedAt - task.createdAt, worker: task.firstTokenAt - task.startedAt, back: firstAtWall - task.firstTokenAt };
}

try {
  await startApps(apps, [startApp('rate-limiter', env), startApp('inference', env)]);
  const access = await startApp('access', env);
  apps.push(access);
  const { key } = await createKey(access, ADMIN_TOKEN, { tenantId: 'bench', models: ['bench'] });
  const rows: Awaited<ReturnType<typeof measure>>[] = [];
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    const row = await measure(access.url, key);
    if (i >= WARMUP) rows.push(row);
    await pause();
  }
  const direct: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const response = await fetch(`${mock.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hello there' }] }) });
    await response.text();
    direct.push(performance.now() - started);
    await pause();
  }
  const ping = async (paused: boolean) => {
    const times: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      await redis.ping();
      times.push(performance.now() - started);
      if (paused) await pause();
    }
    return times;
  };
  const [pingPaused, pingBackToBack] = [await ping(true), await ping(false)];
  const figure = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `${percentile(sorted, 0.5).toFixed(2)} ms | ${percentile(sorted, 0.9).toFixed(2)} ms`;
  };
  console.log(`\n${REQUESTS} streaming requests one at a time, ${GAP_MS > 0 ? `${GAP_MS} ms apart` : 'back to back'}, after ${WARMUP} for warm-up; one hop\n`);
  console.log('| stage | p50 | p90 |\n|---|---|---|');
  console.log(`| client → access stored the task (HTTP, key, validation, task record) | ${figure(rows.map((r) => r.edge))} |`);
  console.log(`| stored → a worker started it (admission script, publish, broker hop, worker's claim) | ${figure(rows.map((r) => r.toWorker))} |`);
  console.log(`| started → first token at the worker (context, model client, upstream) | ${figure(rows.map((r) => r.worker))} |`);
  console.log(`| first token → client (Redis stream, SSE) | ${figure(rows.map((r) => r.back))} |`);
  console.log(`| **time to first token through the platform** | ${figure(rows.map((r) => r.ttft))} |`);
  console.log(`| the mock upstream directly (whole streamed answer, same pauses) | ${figure(direct)} |`);
  console.log(`| one Redis round trip (PING), same pauses | ${figure(pingPaused)} |`);
  console.log(`| one Redis round trip (PING), back to back | ${figure(pingBackToBack)} |`);
} finally {
  await Promise.all(apps.map(stopApp));
  redis.disconnect();
  await mock.close();
}
process.exit(0);
