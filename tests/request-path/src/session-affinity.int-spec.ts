import { startMockLlm, type MockLlm } from '@aip/mock-llm';
import { createKey, eventually, provisionNamespace, type RunningApp, startApp, startApps, stopApp, testRedis, uniqueName, uniqueNamespace } from '@aip/testing';
import type { Redis } from 'ioredis';

// Session affinity end to end, on the real broker and Redis: two rate-limiter replicas with
// SESSION_AFFINITY on share the pins in Redis and route each session's requests through the lane
// of its worker; three inference workers each hold a lane and drain the lane of one that dies.
const ADMIN_TOKEN = 'e2e-admin-token-affinity-0123';
// Not shorter: on a loaded 2-core CI machine a worker's heartbeat (every fifth of this) can be late by
// seconds, and a worker whose heartbeat lapsed is not chosen (its sessions fail over). 4 s was once
// too short in a clean-clone CI run (the sessions of a lapsed worker moved).
const HEARTBEAT_TTL_MS = 6_000;
const REDIS_PREFIX = `${uniqueName('affinity')}:`;
let redis: Redis;
const apps: RunningApp[] = [];
const workers = new Map<string, RunningApp>();
let access: RunningApp;
let slow: MockLlm;
let key: string;

interface Task {
  id: string;
  status: string;
  workerId?: string;
  attempt?: number;
  result?: string;
}

/** The task as its client sees it, plus the worker that runs it (not shown to clients: read from the task record). */
async function task(id: string): Promise<Task> {
  const view = (await (await fetch(`${access.url}/v1/tasks/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as Task;
  // Read after the view, not beside it: the worker writes its id before the final status, so a
  // finished view guarantees the id is there. Read at the same time, the id could be read before
  // the worker started and the view after it finished (an `extractive` answer takes milliseconds):
  // on a loaded CI machine a completed task then showed no worker (a clean-clone CI run failed on it).
  const workerId = await redis.hget(`${REDIS_PREFIX}task:{${id}}`, 'workerId');
  return { ...view, ...(workerId ? { workerId } : {}) };
}

async function submit(session: string, model = 'extractive'): Promise<string> {
  const response = await fetch(`${access.url}/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, session_id: session, messages: [{ role: 'user', content: `a question in ${session}` }] }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as Task).id;
}

async function finished(id: string, timeoutMs = 30_000): Promise<Task> {
  let last: Task | undefined;
  await eventually(async () => ['completed', 'failed', 'rejected'].includes((last = await task(id)).status), `task ${id} to finish`, timeoutMs);
  expect(last).toMatchObject({ status: 'completed' });
  return last!;
}

/** Workers report their load every fifth of the heartbeat TTL: wait for one report to pass. */
const heartbeat = () => new Promise((resolve) => setTimeout(resolve, HEARTBEAT_TTL_MS / 2));

/** Asks in the session and waits for the answer: the worker that served it. */
async function servedBy(session: string): Promise<string> {
  return (await finished(await submit(session))).workerId!;
}

beforeAll(async () => {
  slow = await startMockLlm({ replyTokens: 200, tokensPerSecond: 40 });
  const routing = {
    models: {
      extractive: { providers: [{ name: 'extractive', kind: 'extractive' }] },
      'mock-slow': { providers: [{ name: 'slow', kind: 'openai-compatible', baseUrl: slow.url, model: 'gpt-z', firstTokenTimeoutMs: 5_000 }] },
    },
  };
  redis = testRedis();
  // Topics and groups of this file's own: a worker another suite leaked on the shared broker
  // would otherwise take this file's requests and drop them as unknown tasks.
  const namespace = uniqueNamespace('affinity');
  await provisionNamespace(namespace);
  const shared = { REDIS_PREFIX, ROCKETMQ_NAMESPACE: namespace };
  const limiter = { ...shared, SESSION_AFFINITY: 'true', AFFINITY_MAX_LOAD_GAP: '2' };
  const worker = (id: string) =>
    startApp('inference', { ...shared, WORKER_ID: id, MODEL_ROUTING: JSON.stringify(routing), INFERENCE_SLOTS: '8', LEASE_MS: '10000', HEARTBEAT_TTL_MS: String(HEARTBEAT_TTL_MS), RAG_TOP_K: '0' });
  const started = await startApps(apps, [startApp('rate-limiter', limiter), startApp('rate-limiter', limiter), worker('aff-1'), worker('aff-2'), worker('aff-3')]);
  ['aff-1', 'aff-2', 'aff-3'].forEach((id, i) => workers.set(id, started[2 + i]!));
  access = await startApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'extractive,mock-slow' });
  apps.push(access);
  key = (await createKey(access, ADMIN_TOKEN, { models: ['extractive', 'mock-slow'] })).key;
  // Ready is not yet chosen: a worker reports its lane on its first heartbeat, and until all three
  // have, new sessions can only go to those that did (once, all three sessions went to one worker).
  await eventually(async () => (await redis.zcount(`${REDIS_PREFIX}rl:{w:default}:alive`, `(${Date.now()}`, '+inf')) === 3, 'the three workers to report their lanes', 30_000);
}, 180_000);

afterAll(async () => {
  await Promise.all(apps.map(stopApp));
  await slow?.close();
  redis?.disconnect();
});

describe('session affinity', () => {
  it('sends every request of a session to the worker that served it last, and spreads new sessions over idle workers', async () => {
    const sessions = [uniqueName('s'), uniqueName('s'), uniqueName('s')];
    const first = await Promise.all(sessions.map(servedBy));
    // Three new sessions on three idle workers: the registry counts each choice, so they spread.
    expect(new Set(first).size).toBe(3);
    for (let round = 0; round < 3; round++) {
      expect(await Promise.all(sessions.map(servedBy))).toEqual(first);
    }
  }, 60_000);

  it('moves a session off its worker when that worker is more than the allowed gap busier than the least loaded', async () => {
    const session = uniqueName('busy');
    const home = await servedBy(session);
    // Between heartbeats the registry counts each choice as load; let a heartbeat report the truth.
    await heartbeat();
    // Three long generations in the session: each sticks (1, 2, then 3 busy against 0), so its worker is now 3 busier.
    const long = [await submit(session, 'mock-slow'), await submit(session, 'mock-slow'), await submit(session, 'mock-slow')];
    await eventually(async () => (await Promise.all(long.map(task))).every((t) => t.status === 'running' && t.workerId === home), 'the long generations to run on the session\'s worker', 20_000);
    await heartbeat();
    const moved = await servedBy(session);
    expect(moved).not.toBe(home);
    // The session now lives on its new worker.
    expect(await servedBy(session)).toBe(moved);
    await Promise.all(long.map((id) => finished(id)));
  }, 60_000);

  it('answers a request routed to a worker that was killed, and re-pins the session to a live worker', async () => {
    const session = uniqueName('failover');
    const home = await servedBy(session);
    workers.get(home)!.process.kill('SIGKILL');
    // Sent at once: the limiters still see the dead worker alive and route to its lane; another
    // worker drains that lane once the heartbeat lapses, so the request is answered all the same.
    const routedToDead = await finished(await submit(session), 30_000);
    expect(routedToDead.workerId).not.toBe(home);
    await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_TTL_MS));
    // The session moved to a live worker and stays there.
    const next = await servedBy(session);
    expect(next).not.toBe(home);
    expect(await servedBy(session)).toBe(next);
    expect(await servedBy(session)).toBe(next);
  }, 60_000);
});
