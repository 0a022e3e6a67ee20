import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockLlm, type MockLlm } from '@aip/mock-llm';
import { uniqueName } from '@aip/testing';
import { ChaosApp, ChaosBroker, ChaosRedis } from './chaos-stack.ts';
import { caughtBy, Load, summarise, type Entry, type Summary } from './load.ts';

// The request path under faults, on real processes and its own real broker and Redis: two
// inference workers, two limiters and access under steady load from the openai SDK and the task
// API, while workers, limiters and access are killed with SIGKILL, the broker is killed and
// restarted, and Redis stalls and restarts. Every scenario reports accepted / completed / failed
// with a clear error / lost, and must lose nothing and answer nothing wrong.
//
// `npm run chaos` runs the full sizes (CHAOS_SIZE=full); `npm test` runs a bounded version.
const FULL = process.env['CHAOS_SIZE'] === 'full';
const SIZE = {
  workerKills: Number(process.env['CHAOS_WORKER_KILLS'] ?? (FULL ? 100 : 3)),
  limiterKills: FULL ? 5 : 1,
  accessKills: FULL ? 5 : 1,
  brokerRestarts: FULL ? 5 : 1,
  redisStalls: FULL ? 5 : 1,
  redisRestarts: FULL ? 3 : 1,
  rate: FULL ? 5 : 3,
};
const ADMIN_TOKEN = 'chaos-admin-token-0123456789';
const ANSWER = 'The Forbidden City, the Temple of Heaven and the Summer Palace are worth a visit.';
const DEADLINE_MS = 120_000;
// The workers' lease: how long a request caught by a kill waits before the other worker takes it.
const LEASE_MS = Number(process.env['CHAOS_LEASE_MS'] ?? 10_000);

const broker = new ChaosBroker();
const redis = new ChaosRedis();
let mock: MockLlm;
let access: ChaosApp;
let limiters: ChaosApp[] = [];
let workers: ChaosApp[] = [];
let key: string;
const report: Record<string, Summary & Record<string, unknown>> = {};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stderr.write(`[chaos] ${line}\n`);

function load(): Load {
  return new Load({ base: () => access.url, key, model: 'mock', expected: ANSWER, ratePerSecond: SIZE.rate, deadlineMs: DEADLINE_MS });
}

/** Runs `faults` under load, then lets every request end; returns what the clients saw. */
async function underLoad(name: string, faults: () => Promise<Record<string, unknown> | void>): Promise<{ summary: Summary; entries: Entry[] }> {
  const traffic = load();
  traffic.start();
  await sleep(2_000);
  const extra = (await faults()) ?? {};
  await sleep(3_000);
  await traffic.stop();
  const summary = summarise(traffic.entries);
  report[name] = { ...summary, ...extra };
  log(`${name}: ${JSON.stringify(report[name])}`);
  const bad = traffic.entries.filter((entry) => entry.outcome === 'lost' || entry.outcome === 'wrong');
  if (bad.length > 0) log(`${name}: ${bad.length} lost or wrong, e.g. ${JSON.stringify(bad.slice(0, 5))}`);
  return { summary, entries: traffic.entries };
}

/** Time from now until one request goes all the way through. */
async function timeToFirstAnswer(timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const response = await fetch(`${access.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'are you back?' }] }),
      signal: AbortSignal.timeout(10_000),
    }).catch(() => undefined);
    if (response?.status === 200) return Date.now() - started;
    await sleep(100);
  }
  throw new Error(`no answer within ${timeoutMs} ms`);
}

beforeAll(async () => {
  await Promise.all([broker.start(), redis.start()]);
  mock = await startMockLlm({ reply: ANSWER, tokensPerSecond: 20 });
  const routing = { models: { mock: { providers: [{ name: 'mock', kind: 'openai-compatible', baseUrl: mock.url, model: 'gpt-mock', firstTokenTimeoutMs: 5_000 }] } } };
  const shared = { REDIS_PREFIX: `${uniqueName('chaos')}:`, REDIS_URL: redis.url, ROCKETMQ_ENDPOINTS: broker.endpoints, LOG_LEVEL: process.env['CHAOS_LOG_LEVEL'] ?? 'error' };
  limiters = [0, 1].map(() => new ChaosApp('rate-limiter', shared));
  workers = ['chaos-w1', 'chaos-w2'].map((id) => new ChaosApp('inference', { ...shared, MODEL_ROUTING: JSON.stringify(routing), WORKER_ID: id, INFERENCE_SLOTS: '16', LEASE_MS: String(LEASE_MS), RAG_TOP_K: '0' }));
  access = new ChaosApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'mock', IP_RATE_LIMIT: '0' });
  await Promise.all([...limiters, ...workers, access].map((app) => app.start()));
  const created = await fetch(`${access.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: 'chaos', policy: { id: 'chaos', requestsPerMinute: 100_000, maxConcurrent: 1_000 } }) });
  key = ((await created.json()) as { key: string }).key;
  await timeToFirstAnswer();
}, 300_000);

afterAll(async () => {
  // CHAOS_LOG_DIR=… keeps what each app printed (with CHAOS_LOG_LEVEL=info, to follow a lost request).
  const logDir = process.env['CHAOS_LOG_DIR'];
  if (logDir) for (const [i, app] of [...limiters, ...workers, access].entries()) if (app) writeFileSync(join(logDir, `${i}-${app.name}.log`), app.output);
  await Promise.all([...limiters, ...workers, access].filter(Boolean).map((app) => app.stop()));
  await mock?.close();
  redis.stop();
  await broker.stop().catch(() => undefined);
  log(`report (${FULL ? 'full' : 'bounded'} sizes, ${new Date().toISOString()}): ${JSON.stringify(report)}`);
}, 120_000);

describe('chaos', () => {
  it(`kill -9 of an inference worker mid-stream, ${SIZE.workerKills} times: nothing lost, every answer whole`, async () => {
    const kills: number[] = [];
    const { summary, entries } = await underLoad('worker kills', async () => {
      for (let i = 0; i < SIZE.workerKills; i++) {
        await sleep(500 + Math.random() * 1_500);
        kills.push(Date.now());
        await workers[i % 2]!.killAndRestart();
      }
      return {};
    });
    const caught = caughtBy(entries, kills).sort((a, b) => a - b);
    report['worker kills']!['caughtByKill'] = caught.length;
    report['worker kills']!['caughtSlowestMs'] = caught.at(-1) ?? 0;
    report['worker kills']!['caughtMedianMs'] = caught[Math.floor(caught.length / 2)] ?? 0;
    log(`worker kills: requests in flight at a kill took ${JSON.stringify(caught)} ms`);
    expect(summary.lost).toBe(0);
    expect(summary.wrong).toBe(0);
    expect(summary.completed).toBeGreaterThan(0);
  }, 3_600_000);

  it(`kill -9 of a limiter (${SIZE.limiterKills}) and of access (${SIZE.accessKills}) under load: nothing accepted is lost`, async () => {
    const { summary } = await underLoad('limiter and access kills', async () => {
      for (let i = 0; i < Math.max(SIZE.limiterKills, SIZE.accessKills); i++) {
        if (i < SIZE.limiterKills) await limiters[i % 2]!.killAndRestart();
        await sleep(1_000);
        if (i < SIZE.accessKills) await access.killAndRestart();
        await sleep(1_500);
      }
    });
    expect(summary.lost).toBe(0);
    expect(summary.wrong).toBe(0);
  }, 1_800_000);

  it(`the broker killed and restarted ${SIZE.brokerRestarts} times under load: clear 503s during the outage, nothing accepted lost, recovery measured`, async () => {
    const recoveries: number[] = [];
    const { summary } = await underLoad('broker restarts', async () => {
      for (let i = 0; i < SIZE.brokerRestarts; i++) {
        await broker.kill();
        await sleep(3_000);
        await broker.start();
        recoveries.push(await timeToFirstAnswer(120_000));
        await sleep(2_000);
      }
      return { recoveryMs: recoveries };
    });
    log(`broker restarts: first answer through the platform ${JSON.stringify(recoveries)} ms after the broker was ready again`);
    expect(summary.lost).toBe(0);
    expect(summary.wrong).toBe(0);
  }, 1_800_000);

  it(`Redis stalls (${SIZE.redisStalls} × CLIENT PAUSE 3 s) and restarts (${SIZE.redisRestarts}, append-only file on): nothing accepted lost, every app recovers without a restart`, async () => {
    const recoveries: number[] = [];
    const { summary } = await underLoad('redis stalls and restarts', async () => {
      for (let i = 0; i < SIZE.redisStalls; i++) {
        await redis.pause(3_000);
        await sleep(4_000);
      }
      for (let i = 0; i < SIZE.redisRestarts; i++) {
        await redis.restart(2_000);
        recoveries.push(await timeToFirstAnswer(60_000));
        await sleep(2_000);
      }
      return { recoveryMs: recoveries };
    });
    expect(summary.lost).toBe(0);
    expect(summary.wrong).toBe(0);
    for (const app of [...limiters, ...workers, access]) expect(app.app!.process.exitCode).toBeNull();
  }, 1_800_000);
});
