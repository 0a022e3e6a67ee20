import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockLlm, type MockLlm } from '@aip/mock-llm';
import { provisionNamespace, type RunningApp, startApp, startApps, stopApp, uniqueName, uniqueNamespace } from '@aip/testing';

// What the review of the request path found (issue 11), tried the way a client would, on real
// processes, the real broker and Redis: cancelled requests must give their reservation back,
// an Idempotency-Key must not pin a transient failure, and a request that cannot make its
// deadline is refused at once instead of waiting it out, a client cannot dodge the per-IP limit,
// and a conversation is its owner's.
const ADMIN_TOKEN = 'e2e-admin-token-hardening-0123456789';
const DEADLINE_MS = 20_000;
const namespace = uniqueNamespace('e2e-hard');
const apps: RunningApp[] = [];
let base: string;
let slow: MockLlm;
let broken: MockLlm;
let ipLimited: RunningApp;

async function createKey(policy?: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${base}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenantId: 'acme', ...(policy ? { policy } : {}) }),
  });
  return ((await response.json()) as { key: string }).key;
}

function post(path: string, key: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

async function task(key: string, id: string): Promise<{ id: string; status: string; error?: { code: string } }> {
  return (await fetch(`${base}/v1/tasks/${id}`, { headers: { authorization: `Bearer ${key}` } })).json();
}

async function settled(key: string, id: string) {
  for (;;) {
    const current = await task(key, id);
    if (!['queued', 'running'].includes(current.status)) return current;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ask = (content: string) => [{ role: 'user' as const, content }];

beforeAll(async () => {
  slow = await startMockLlm({ replyTokens: 2_400, tokensPerSecond: 40 }); // a minute: longer than the deadline
  broken = await startMockLlm({ fail: 'http500' });
  const routing = {
    models: {
      extractive: { providers: [{ name: 'extractive', kind: 'extractive' }] },
      'mock-broken': { providers: [{ name: 'internal-gpu-7', kind: 'openai-compatible', baseUrl: broken.url, model: 'gpt-b', firstTokenTimeoutMs: 2_000 }] },
      'mock-slow': { providers: [{ name: 'slow', kind: 'openai-compatible', baseUrl: slow.url, model: 'gpt-z', firstTokenTimeoutMs: 5_000 }] },
    },
  };
  // Topics and groups of this file's own: a worker another suite leaked on the shared broker
  // would otherwise take this file's requests and drop them as unknown tasks.
  await provisionNamespace(namespace);
  const shared = { REDIS_PREFIX: `${uniqueName('e2e-hard')}:`, ROCKETMQ_NAMESPACE: namespace };
  const [, , access, limited] = await startApps(apps, [
    startApp('rate-limiter', shared),
    startApp('inference', { ...shared, MODEL_ROUTING: JSON.stringify(routing), INFERENCE_SLOTS: '8', WORKER_ID: 'worker-h', LEASE_MS: '10000' }),
    startApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'extractive,mock-slow,mock-broken', ADMISSION_DEADLINE_MS: String(DEADLINE_MS) }),
    startApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'extractive', IP_RATE_LIMIT: '5', INSTANCE_ID: 'ip-limited' }),
  ]);
  base = access.url;
  ipLimited = limited;
}, 180_000);

afterAll(async () => {
  await Promise.all(apps.map(stopApp));
  await slow?.close();
  await broken?.close();
});

describe('cancelled requests', () => {
  it('give their concurrency slot back: 12 submit-and-cancel cycles on a 2-at-a-time key leave it usable', async () => {
    const key = await createKey({ id: 'two-at-a-time', maxConcurrent: 2 });
    for (let i = 0; i < 12; i++) {
      const created = await (await post('/v1/tasks', key, { model: 'extractive', messages: ask(`cancel me ${i}`) })).json();
      await fetch(`${base}/v1/tasks/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
    }
    // Before the fix each cancelled task was still admitted later and its slot stayed held for the
    // 600 s lease: the third cycle already locked the key out.
    const response = await post('/v1/chat/completions', key, { model: 'extractive', messages: ask('still usable?') });
    expect(response.status).toBe(200);
  });
});

describe('an Idempotency-Key', () => {
  it('is released by a transient refusal (429): the retry with the same key runs as a new task', async () => {
    const key = await createKey({ id: 'one-at-a-time', maxConcurrent: 1 });
    const busy = await (await post('/v1/tasks', key, { model: 'mock-slow', messages: ask('hold the only slot'), max_tokens: 2_400 })).json();
    const body = { model: 'extractive', messages: ask('retry me') };
    const first = await (await post('/v1/tasks', key, body, { 'idempotency-key': 'order-42' })).json();
    // It waits for the slot, then cannot get it before its deadline.
    expect(await settled(key, first.id)).toMatchObject({ status: 'rejected' });
    await fetch(`${base}/v1/tasks/${busy.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
    await settled(key, busy.id);

    const retry = await post('/v1/tasks', key, body, { 'idempotency-key': 'order-42' });
    const second = await retry.json();
    expect(second.id).not.toBe(first.id);
    expect(await settled(key, second.id)).toMatchObject({ status: 'completed' });
    // Once it succeeded, the key keeps pointing at the success.
    expect((await (await post('/v1/tasks', key, body, { 'idempotency-key': 'order-42' })).json()).id).toBe(second.id);
  }, 60_000);
});

describe('a request that cannot make its deadline', () => {
  it('is refused at once with Retry-After from the bucket, not after waiting out the deadline', async () => {
    // 6 per minute = one every 10 s; a 20 s deadline lets at most one or two more wait for a token.
    const key = await createKey({ id: 'six-per-minute', requestsPerMinute: 6 });
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const response = await post('/v1/chat/completions', key, { model: 'extractive', messages: ask('hi') });
        return { status: response.status, retryAfter: Number(response.headers.get('retry-after')), elapsed: Date.now() - started };
      }),
    );
    const refused = results.filter((result) => result.status === 429);
    expect(results.filter((result) => result.status === 200).length).toBeGreaterThanOrEqual(6);
    expect(refused.length).toBeGreaterThanOrEqual(20);
    // Before the fix all of them waited the whole 20 s deadline in the queue. Now only those that
    // could make it when they arrived are parked: the queue positions a token reaches within the
    // deadline (20 s / 10 s = 2, and a third when a token is due right at the deadline), and any of
    // them may still miss it on a busy machine and be refused then. "Early" is well before the
    // deadline: a clean-clone CI run had a refusal answered at the half-deadline mark under load.
    const answeredEarly = refused.filter((result) => result.elapsed < DEADLINE_MS * 0.75);
    expect(answeredEarly.length).toBeGreaterThanOrEqual(refused.length - 3);
    expect(Math.min(...answeredEarly.map((result) => result.retryAfter))).toBeGreaterThanOrEqual(10);
  }, 60_000);
});

describe('the per-IP limit', () => {
  it('cannot be dodged by rotating X-Forwarded-For (the default trusts no proxy)', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => fetch(`${ipLimited.url}/v1/models`, { headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } }).then((r) => r.status)),
    );
    // 5 per second from this one address: the made-up addresses do not each get their own 5.
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(10);
  });

  it('guards knowledge-ingest and rtc-push too, in the platform error shape', async () => {
    const [knowledge, realtime] = await startApps(apps, [
      startApp('knowledge-ingest', { ROCKETMQ_NAMESPACE: namespace, REDIS_PREFIX: `${uniqueName('e2e-ip')}:`, IP_RATE_LIMIT: '5', LANCEDB_DIR: mkdtempSync(join(tmpdir(), 'aip-ip-')) }),
      startApp('rtc-push', { ROCKETMQ_NAMESPACE: namespace, REDIS_PREFIX: `${uniqueName('e2e-ip')}:`, IP_RATE_LIMIT: '5', RTC_INSTANCE_ID: uniqueName('ip-rtc') }),
    ]);
    for (const url of [`${knowledge.url}/v1/knowledge-bases`, `${realtime.url}/v1/sse?user=u1`]) {
      const responses = await Promise.all(Array.from({ length: 20 }, () => fetch(url)));
      const limited = responses.filter((response) => response.status === 429);
      expect(limited.length).toBeGreaterThanOrEqual(10);
      expect(await limited[0]!.json()).toMatchObject({ error: { type: 'rate_limit_error', code: 'ip_rate_limited' } });
      expect(limited[0]!.headers.get('retry-after')).toBe('1');
      await Promise.all(responses.filter((response) => !response.bodyUsed).map((response) => response.body?.cancel()));
    }
  }, 120_000);
});

describe('a conversation', () => {
  it('belongs to the user who started it: another user of the tenant who knows its session_id is refused (403)', async () => {
    const key = await createKey();
    const session = uniqueName('session');
    const turn = (user: string, content: string) => post('/v1/chat/completions', key, { model: 'extractive', messages: ask(content), session_id: session, user });
    expect((await turn('alice', 'my flight number is LH 123')).status).toBe(200);
    const stolen = await turn('mallory', 'what did I say before?');
    expect(stolen.status).toBe(403);
    expect((await stolen.json()).error).toMatchObject({ code: 'session_not_owned', param: 'session_id' });
    // Without a user the key owns it; with a user it is that user's — neither can take the other's.
    expect((await post('/v1/chat/completions', key, { model: 'extractive', messages: ask('hi'), session_id: session })).status).toBe(403);
    expect((await turn('alice', 'and my seat?')).status).toBe(200);
  });
});

describe('what a client sees of the platform\'s insides', () => {
  it('a provider failure says what kind of failure it is, not the provider\'s host, port or body; the task view has no worker id', async () => {
    const key = await createKey();
    const created = await (await post('/v1/tasks', key, { model: 'mock-broken', messages: ask('hi') })).json();
    const failed = await settled(key, created.id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'server_error' } });
    const shown = JSON.stringify(failed);
    expect(shown).not.toContain(String(broken.port));
    expect(shown).not.toContain('internal-gpu-7');
    expect(failed).not.toHaveProperty('workerId');

    const response = await post('/v1/chat/completions', key, { model: 'mock-broken', messages: ask('hi') });
    expect(response.status).toBe(502);
    expect(await response.text()).not.toContain(String(broken.port));
  });
});
