// Over 400 lines on purpose: the five processes of the request path start once (~20 s) for every
// case below; each `describe` is one concern a client would notice.
import { ChatOpenAI } from '@langchain/openai';
import { startMockLlm, type MockLlm } from '@aip/mock-llm';
import { eventually, provisionNamespace, type RunningApp, startApp, startApps, stopApp, testRedis, uniqueName, uniqueNamespace } from '@aip/testing';
import OpenAI from 'openai';

const WORKERS = ['worker-a', 'worker-b'];

// The request path with real processes: access → ai-request → two rate-limiter instances →
// ai-inference → an inference worker → Redis stream → access, on the real broker and Redis,
// with mock OpenAI-compatible upstreams standing in for models.
const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
const REDIS_PREFIX = `${uniqueName('e2e')}:`;
const apps: RunningApp[] = [];
let access: RunningApp;
let base: string;
let broken: MockLlm;
let healthy: MockLlm;
let slow: MockLlm;
let oneSecond: MockLlm;
let routing: { models: Record<string, { providers: Record<string, unknown>[] }> };

async function admin(path: string, init: RequestInit = {}) {
  const response = await fetch(`${base}/admin/keys${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  return response.status === 204 ? undefined : response.json();
}

async function createKey(input: Record<string, unknown> = {}): Promise<{ key: string; record: { id: string } }> {
  return admin('', { method: 'POST', body: JSON.stringify({ tenantId: 'acme', ...input }) }) as Promise<{ key: string; record: { id: string } }>;
}

function post(path: string, key: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

const ask = (content: string) => [{ role: 'user' as const, content }];

beforeAll(async () => {
  [broken, healthy, slow, oneSecond] = await Promise.all([
    startMockLlm({ fail: 'http500' }),
    startMockLlm({ reply: 'The Forbidden City and the Great Wall.' }),
    startMockLlm({ replyTokens: 200, tokensPerSecond: 40 }),
    startMockLlm({ replyTokens: 10, tokensPerSecond: 10 }),
  ]);
  routing = {
    models: {
      extractive: { providers: [{ name: 'extractive', kind: 'extractive' }] },
      'mock-gpt': {
        providers: [
          { name: 'broken', kind: 'openai-compatible', baseUrl: broken.url, model: 'gpt-x', firstTokenTimeoutMs: 2_000 },
          { name: 'healthy', kind: 'openai-compatible', baseUrl: healthy.url, model: 'gpt-y', firstTokenTimeoutMs: 2_000 },
        ],
      },
      'mock-slow': { providers: [{ name: 'slow', kind: 'openai-compatible', baseUrl: slow.url, model: 'gpt-z', firstTokenTimeoutMs: 5_000 }] },
      'mock-1s': { providers: [{ name: 'one-second', kind: 'openai-compatible', baseUrl: oneSecond.url, model: 'gpt-1s', firstTokenTimeoutMs: 5_000 }] },
    },
  };
  // Topics and groups of this file's own: a worker another suite leaked on the shared broker
  // would otherwise take this file's requests and drop them as unknown tasks.
  const namespace = uniqueNamespace('e2e');
  await provisionNamespace(namespace);
  const shared = { REDIS_PREFIX, ROCKETMQ_NAMESPACE: namespace };
  // Apps that did start are stopped in afterAll even when a sibling fails to.
  await startApps(apps, [
    startApp('rate-limiter', shared),
    startApp('rate-limiter', shared),
    startApp('inference', { ...shared, MODEL_ROUTING: JSON.stringify(routing), INFERENCE_SLOTS: '16', WORKER_ID: 'worker-a', LEASE_MS: '10000' }),
    startApp('inference', { ...shared, MODEL_ROUTING: JSON.stringify(routing), INFERENCE_SLOTS: '16', WORKER_ID: 'worker-b', LEASE_MS: '10000' }),
  ]);
  // A short admission deadline: requests over a per-minute limit are refused at once (429)
  // instead of waiting in the deadline queue for the next minute.
  access = await startApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'extractive,mock-gpt,mock-slow,mock-1s', ADMISSION_DEADLINE_MS: '3000', MAX_BODY_BYTES: '65536', SENSITIVE_WORDS: 'forbidden,darn' });
  apps.push(access);
  base = `http://127.0.0.1:${access.port}`;
}, 180_000);

afterAll(async () => {
  await Promise.all(apps.map(stopApp));
  await Promise.all([broken, healthy, slow, oneSecond].map((mock) => mock?.close()));
});

describe('the OpenAI-compatible API', () => {
  it('answers through the official openai SDK, streaming and not, with usage', async () => {
    const { key } = await createKey();
    const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1` });
    const completion = await client.chat.completions.create({ model: 'extractive', messages: ask('Which sights are in Beijing?') });
    expect(completion.choices[0]?.message.content).toMatch(/retrieval-only/);
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);

    const stream = await client.chat.completions.create({ model: 'extractive', messages: ask('Which sights are in Beijing?'), stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(completion.choices[0]?.message.content);
    expect(usage?.completion_tokens).toBe(completion.usage?.completion_tokens);
    // The chat aliases, and the embedding model of POST /v1/embeddings.
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['extractive', 'mock-gpt', 'mock-slow', 'mock-1s', 'all-minilm-l6-v2']);

    // What operators see: requests by route and status on access, time to first token on the workers.
    const metrics = async (app: RunningApp) => (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
    expect(await metrics(access)).toMatch(/aip_http_requests_total\{route="\/v1\/chat\/completions",status="200"\} [1-9]/);
    // Admitted by access itself, one broker hop to the workers (ADR 0025): nothing waited, the limits allowed it.
    expect(await metrics(access)).toMatch(/aip_edge_admissions_total\{path="direct",reason=""\} [1-9]/);
    const workers = await Promise.all(apps.filter((app) => app.name === 'inference').map(metrics));
    expect(workers.join('\n')).toMatch(/aip_inference_time_to_first_token_seconds_count\{model="extractive",provider="extractive"\} [1-9]/);
  });

  // Regression (issue 14): fields were dropped without a word, and the client got plain text back;
  // an image part was flattened to its text.
  it('refuses what it would not carry out with a 400 naming the field, in the SDK\'s error shape, and keeps the no-op defaults working', async () => {
    const { key } = await createKey();
    const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0 });
    const refusal = (request: Record<string, unknown>) =>
      client.chat.completions.create({ model: 'extractive', messages: ask('What is the weather in Beijing?'), ...request } as never).then(
        () => undefined,
        (error: unknown) => (error instanceof OpenAI.BadRequestError ? { status: error.status, code: error.code, param: error.param } : error),
      );
    expect(await refusal({ n: 9 })).toEqual({ status: 400, code: 'invalid_value', param: 'n' });
    // This platform masks words in answers: a token's log probability would spell them out.
    expect(await refusal({ logprobs: true })).toEqual({ status: 400, code: 'unsupported_parameter', param: 'logprobs' });
    expect(await refusal({ temprature: 0.3 })).toEqual({ status: 400, code: 'unknown_parameter', param: 'temprature' });
    const audio = { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] };
    expect(await refusal({ messages: [audio] })).toEqual({ status: 400, code: 'unsupported_content', param: 'messages[0].content[1]' });
    // Images are forwarded to providers that read them; the retrieval-only model does not.
    const image = { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] };
    expect(await refusal({ messages: [image] })).toEqual({ status: 400, code: 'unsupported_capability', param: null });
    // Tools and structured output are forwarded, but the retrieval-only model can do neither.
    const tools = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    expect(await refusal({ tools })).toEqual({ status: 400, code: 'unsupported_capability', param: null });
    expect(await refusal({ response_format: { type: 'json_object' } })).toEqual({ status: 400, code: 'unsupported_capability', param: null });
    // What SDKs send by default changes nothing, and goes through.
    expect(await refusal({ n: 1, top_p: 1, tools: [], tool_choice: 'auto', response_format: { type: 'text' }, presence_penalty: 0 })).toBeUndefined();
    // An operator who gives a key a model nothing serves hears it at once, not from the key's users.
    expect(await createKey({ models: ['extractive', 'some-other-model'] })).toEqual({ error: expect.objectContaining({ code: 'model_not_found', param: 'models', message: expect.stringContaining("'some-other-model'") }) });
  });

  it('works for LangChain\'s ChatOpenAI pointed at it', async () => {
    const { key } = await createKey();
    const model = new ChatOpenAI({ model: 'mock-gpt', apiKey: key, configuration: { baseURL: `${base}/v1` }, maxRetries: 0 });
    const answer = await model.invoke('Which sights are in Beijing?');
    expect(answer.content).toBe('The ********* City and the Great Wall.'); // "forbidden" is on the word list
  });

  it('gives the model the key\'s profile tags as a system message', async () => {
    const { key } = await createKey({ profile: { city: 'Beijing', interests: 'history' } });
    const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1` });
    await client.chat.completions.create({ model: 'mock-gpt', messages: ask('what should I see?') });
    const seen = healthy.stats().lastRequest?.messages ?? [];
    expect(seen[0]).toEqual({ role: 'system', content: 'What we know about the user: city: Beijing; interests: history.' });
    expect(seen.at(-1)).toMatchObject({ role: 'user', content: 'what should I see?' });
  });

  it('carries the conversation of a session into the next request', async () => {
    const { key } = await createKey();
    const session = uniqueName('session');
    await post('/v1/chat/completions', key, { model: 'mock-gpt', session_id: session, messages: ask('sights in Beijing?') });
    await post('/v1/chat/completions', key, { model: 'mock-gpt', session_id: session, messages: ask('and hotels?') });
    expect(healthy.stats().lastRequest?.messages).toEqual([
      { role: 'user', content: 'sights in Beijing?' },
      { role: 'assistant', content: 'The Forbidden City and the Great Wall.' },
      { role: 'user', content: 'and hotels?' },
    ]);
  });

  it('falls back to the second provider when the first fails', async () => {
    const { key } = await createKey();
    const answeredBefore = healthy.stats().requests;
    const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1` });
    const completion = await client.chat.completions.create({ model: 'mock-gpt', messages: ask('sights?') });
    expect(completion.choices[0]?.message.content).toBe('The ********* City and the Great Wall.');
    // The answer came from the second provider of the chain, and the first one has failed (this
    // time, or earlier in the suite and is cooling down now).
    expect(healthy.stats().requests).toBe(answeredBefore + 1);
    expect(broken.stats().requests).toBeGreaterThan(0);
  });

  it.each([
    ['malformed JSON', '{"model":', 400, 'invalid_request_error'],
    ['no messages', { model: 'extractive', messages: [] }, 400, 'invalid_request_error'],
    ['an unknown model', { model: 'gpt-17', messages: ask('hi') }, 404, 'not_found_error'],
    ['an oversized body', { model: 'extractive', messages: ask('x'.repeat(100_000)) }, 413, 'invalid_request_error'],
  ])('refuses %s with a structured OpenAI error and a request id', async (_case, body, status, type) => {
    const { key } = await createKey();
    const response = await post('/v1/chat/completions', key, body);
    expect(response.status).toBe(status);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(await response.json()).toEqual({ error: expect.objectContaining({ type, message: expect.any(String) }) });
  });

  it('refuses missing, invalid and revoked keys (401) and models the key may not use (403)', async () => {
    const body = { model: 'extractive', messages: ask('hi') };
    expect((await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status).toBe(401);
    expect((await post('/v1/chat/completions', 'sk-aip-not-a-key', body)).status).toBe(401);
    const limited = await createKey({ models: ['extractive'] });
    const denied = await post('/v1/chat/completions', limited.key, { model: 'mock-gpt', messages: ask('hi') });
    expect(denied.status).toBe(403);
    expect((await denied.json()).error.code).toBe('model_not_allowed');
    const revoked = await createKey();
    await post('/v1/chat/completions', revoked.key, body); // cached as valid now
    await admin(`/${revoked.record.id}`, { method: 'DELETE' });
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // the key cache lives 2 s
    const response = await post('/v1/chat/completions', revoked.key, body);
    expect(response.status).toBe(401);
    expect((await response.json()).error.code).toBe('invalid_api_key');
  });

  it('admits exactly the per-minute limit out of 100 concurrent requests across two limiter instances, and answers 429 with Retry-After to the rest', async () => {
    const { key } = await createKey({ policy: { id: 'tight', requestsPerMinute: 10 } });
    const responses = await Promise.all(Array.from({ length: 100 }, () => post('/v1/chat/completions', key, { model: 'extractive', messages: ask('hi') })));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(90);
    const refused = responses.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('10');
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect((await refused.json()).error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
  });
});

describe('sensitive words', () => {
  it('refuses a request that contains one, and masks them in streamed answers even across chunks', async () => {
    const { key } = await createKey();
    const refused = await post('/v1/chat/completions', key, { model: 'extractive', messages: ask('well, darn') });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error.code).toBe('content_policy_violation');

    // The mock answers word by word ("The ", "Forbidden ", "City ..."): the word arrives in its own delta.
    const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1` });
    const stream = await client.chat.completions.create({ model: 'mock-gpt', messages: ask('sights?'), stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('The ********* City and the Great Wall.');
    const completion = await client.chat.completions.create({ model: 'mock-gpt', messages: ask('sights?') });
    expect(completion.choices[0]?.message.content).toBe('The ********* City and the Great Wall.');
  });
});

describe('the deadline queue', () => {
  it('holds a request over the concurrency limit until a slot frees instead of answering 429', async () => {
    const { key } = await createKey({ policy: { id: 'one-at-a-time', maxConcurrent: 1 } });
    const started = Date.now();
    const [first, second] = await Promise.all([0, 1].map(() => post('/v1/chat/completions', key, { model: 'mock-1s', messages: ask('one at a time') })));
    expect([first!.status, second!.status]).toEqual([200, 200]);
    // One ran after the other: together they took about two generations, not one.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_800);
  });

  it('rejects (429) what cannot start before its deadline: expired in the queue, or bound to miss it', async () => {
    const { key } = await createKey({ policy: { id: 'one-at-a-time', maxConcurrent: 1 } });
    const responses = await Promise.all(Array.from({ length: 5 }, () => post('/v1/chat/completions', key, { model: 'mock-1s', messages: ask('queue me') })));
    const refused = responses.filter((r) => r.status === 429);
    expect(responses.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(['deadline_exceeded', 'concurrency_limit']).toContain((await refused[0]!.json()).error.code);
  });
});

describe('the async task API', () => {
  it('accepts a task (202), serves it by polling, and replays its events over SSE from Last-Event-ID', async () => {
    const { key } = await createKey();
    const created = await post('/v1/tasks', key, { model: 'mock-gpt', messages: ask('sights?') });
    expect(created.status).toBe(202);
    const task = await created.json();
    expect(task).toMatchObject({ status: 'queued', links: { self: `/v1/tasks/${task.id}` } });

    let polled: { status: string; result?: string; usage?: unknown } = { status: 'queued' };
    await eventually(async () => {
      polled = (await (await fetch(`${base}/v1/tasks/${task.id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as typeof polled;
      return ['completed', 'failed'].includes(polled.status);
    }, 'the task to end');
    expect(polled).toMatchObject({ status: 'completed', result: 'The ********* City and the Great Wall.', usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) } });

    const events = async (lastEventId?: string) => {
      const response = await fetch(`${base}/v1/tasks/${task.id}/events`, { headers: { authorization: `Bearer ${key}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } });
      const frames = (await response.text()).split('\n\n').filter(Boolean).map((frame) => Object.fromEntries(frame.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)])));
      return frames as { id: string; event: string; data: string }[];
    };
    const all = await events();
    expect(all.at(-1)?.event).toBe('done');
    const resumed = await events(all[1]!.id);
    expect(resumed.map((f) => f.id)).toEqual(all.slice(2).map((f) => f.id));
    expect(await events(all.at(-1)!.id)).toEqual([]);

    // An id the stream never gave out is refused at once, never a stream that waits for nothing.
    const [newestMs] = all.at(-1)!.id.split('-');
    for (const bogus of ['not-an-id', '99999999999999999999-0', `${BigInt(newestMs!) + 1n}-0`]) {
      const response = await fetch(`${base}/v1/tasks/${task.id}/events`, { headers: { authorization: `Bearer ${key}`, 'last-event-id': bogus } });
      expect({ bogus, status: response.status, body: await response.json() }).toMatchObject({ status: 400, body: { error: { code: 'invalid_last_event_id', param: 'Last-Event-ID' } } });
    }
  });

  it('returns the same task for the same Idempotency-Key and body, and 409 for another body', async () => {
    const { key } = await createKey();
    const body = { model: 'extractive', messages: ask('once') };
    const first = await (await post('/v1/tasks', key, body, { 'idempotency-key': 'req-1' })).json();
    const second = await (await post('/v1/tasks', key, body, { 'idempotency-key': 'req-1' })).json();
    expect(second.id).toBe(first.id);
    expect((await post('/v1/tasks', key, { ...body, messages: ask('other') }, { 'idempotency-key': 'req-1' })).status).toBe(409);
  });

  it('never shows a task to another tenant (404)', async () => {
    const { key } = await createKey();
    const other = (await admin('', { method: 'POST', body: JSON.stringify({ tenantId: 'globex' }) })) as { key: string };
    const task = await (await post('/v1/tasks', key, { model: 'extractive', messages: ask('mine') })).json();
    const response = await fetch(`${base}/v1/tasks/${task.id}`, { headers: { authorization: `Bearer ${other.key}` } });
    expect(response.status).toBe(404);
  });

  it('cancels a running generation within a fraction of a second', async () => {
    const { key } = await createKey();
    const abandonedBefore = slow.stats().aborted;
    const task = await (await post('/v1/tasks', key, { model: 'mock-slow', messages: ask('long answer please') })).json();
    const auth = { authorization: `Bearer ${key}` };
    const view = async () => (await (await fetch(`${base}/v1/tasks/${task.id}`, { headers: auth })).json()) as { status: string; result?: string };
    await eventually(async () => (await view()).status === 'running', 'the task to be running');
    await fetch(`${base}/v1/tasks/${task.id}`, { method: 'DELETE', headers: auth });
    let final = await view();
    await eventually(async () => (final = await view()).status !== 'running', 'the task to stop running');
    expect(final.status).toBe('cancelled');
    // The user keeps the beginning of the answer, not all of it (200 words at 40 a second: 5 s)...
    const full = (await (await fetch(`${slow.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mock-behaviour': '{"tokensPerSecond":0}' }, body: JSON.stringify({ model: 'gpt-z', messages: ask('long answer please') }) })).json()) as { choices: { message: { content: string } }[] };
    const answer = full.choices[0]!.message.content;
    expect(typeof final.result).toBe('string');
    expect(answer.startsWith(final.result!)).toBe(true);
    expect(final.result!.length).toBeLessThan(answer.length);
    // ...and the model is no longer asked for the rest: the worker hung up on it.
    await eventually(() => slow.stats().aborted > abandonedBefore, 'the worker to close its stream from the model');
  });
});

describe('worker failure', () => {
  it('re-runs a request whose worker was killed mid-generation on another worker; the streaming client gets one complete answer', async () => {
    const { key } = await createKey();
    const response = await post('/v1/chat/completions', key, { model: 'mock-slow', stream: true, messages: ask('tell me everything') });
    expect(response.status).toBe(200);
    const taskId = response.headers.get('x-task-id')!;
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let raw = '';
    let killed = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      raw += decoder.decode(value, { stream: true });
      if (!killed && raw.split('"content":"').length > 20) {
        // Some text has arrived: kill the worker that generates it, without a chance to clean up.
        // Which worker runs it is not shown to clients: the test reads the task record itself.
        const redis = testRedis();
        const workerId = await redis.hget(`${REDIS_PREFIX}task:{${taskId}}`, 'workerId');
        redis.disconnect();
        const victim = apps[2 + WORKERS.indexOf(workerId ?? '')]!;
        victim.process.kill('SIGKILL');
        killed = true;
      }
    }
    expect(killed).toBe(true);
    const text = raw
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: {'))
      .map((frame) => JSON.parse(frame.slice(6)) as { choices: { delta?: { content?: string } }[] })
      .map((chunk) => chunk.choices[0]?.delta?.content ?? '')
      .join('');
    const expected = await (await fetch(`${slow.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mock-behaviour': '{"tokensPerSecond":0}' }, body: JSON.stringify({ model: 'gpt-z', messages: ask('tell me everything') }) })).json();
    expect(text).toBe(expected.choices[0].message.content);
    const task = await (await fetch(`${base}/v1/tasks/${taskId}`, { headers: { authorization: `Bearer ${key}` } })).json();
    expect(task).toMatchObject({ status: 'completed', attempt: 2, result: expected.choices[0].message.content });
  }, 120_000);
});

describe('run-time configuration', () => {
  it('serves a model added to the routing document and masks a word added to the list, without restarts', async () => {
    const { key } = await createKey();
    const put = (name: string, body: unknown) =>
      fetch(`${base}/admin/config/${name}`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1` });
    await expect(client.chat.completions.create({ model: 'hot-model', messages: ask('sights?') })).rejects.toMatchObject({ status: 404 });

    const added = { ...routing, models: { ...routing.models, 'hot-model': { providers: [{ name: 'hot', kind: 'openai-compatible', baseUrl: healthy.url, model: 'gpt-hot' }] } } };
    expect((await put('routing', added)).status).toBe(200);
    expect((await put('words', { words: ['forbidden', 'darn', 'wall'], input: 'mask' })).status).toBe(200);
    expect((await put('routing', { models: { bad: { providers: [] } } })).status).toBe(400);

    let answer: string | null | undefined;
    await eventually(async () => {
      answer = await client.chat.completions.create({ model: 'hot-model', messages: ask('sights?') }).then((c) => c.choices[0]?.message.content, () => undefined);
      return answer?.endsWith('****.') ?? false;
    }, 'the new model to answer with the new word masked', 10_000);
    expect(answer).toBe('The ********* City and the Great ****.');
    // A tenant policy applies to that tenant's keys that have none of their own.
    expect((await put('policies', { tenants: { 'tight-tenant': { id: 'tight', requestsPerMinute: 2 } } })).status).toBe(200);
    const tenantKey = (await admin('', { method: 'POST', body: JSON.stringify({ tenantId: 'tight-tenant' }) })) as { key: string };
    await eventually(async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await post('/v1/chat/completions', tenantKey.key, { model: 'extractive', messages: ask('hi') })).status);
      return statuses.includes(429);
    }, 'the tenant policy (2 a minute) to refuse one of 3 requests with 429', 10_000);
    // A per-model policy limits that model only: the key's other models keep their own budget.
    expect((await put('policies', { tenantModels: { 'model-tenant': { 'hot-model': { id: 'hot-scarce', requestsPerMinute: 1, burst: 1 } } } })).status).toBe(200);
    const modelKey = (await admin('', { method: 'POST', body: JSON.stringify({ tenantId: 'model-tenant' }) })) as { key: string };
    await eventually(async () => {
      const hot: number[] = [];
      for (let i = 0; i < 2; i++) hot.push((await post('/v1/chat/completions', modelKey.key, { model: 'hot-model', messages: ask('hi') })).status);
      return hot.includes(429);
    }, 'the per-model policy (1 a minute) to refuse one of 2 hot-model requests with 429', 10_000);
    expect((await post('/v1/chat/completions', modelKey.key, { model: 'extractive', messages: ask('hi') })).status).toBe(200);
    expect((await put('policies', { tenantModel: {} })).status).toBe(400);
    // Input is now masked instead of refused.
    expect((await post('/v1/chat/completions', key, { model: 'extractive', messages: ask('well, darn') })).status).toBe(200);
  });

  it('serves an alias the moment it is added; a deleted routing document gives the start-up routing back, and a kept version restores it', async () => {
    const { key } = await createKey();
    const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1` });
    const call = (name: string, method: string) => fetch(`${base}/admin/config/${name}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const added = { ...routing, models: { ...routing.models, 'instant-model': { providers: [{ name: 'instant', kind: 'openai-compatible', baseUrl: healthy.url, model: 'gpt-instant' }] } } };
    const written = (await (await fetch(`${base}/admin/config/routing`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(added) })).json()) as { version: number };
    // No wait: neither access nor the workers may answer 404 in the second before their periodic check.
    const first = await client.chat.completions.create({ model: 'instant-model', messages: ask('sights?') });
    expect(first.choices[0]?.message.content).toContain('City');

    const deleted = (await (await call('routing', 'DELETE')).json()) as { version: number; body: unknown };
    expect(deleted).toEqual({ version: written.version + 1, body: null });
    expect((await call('routing', 'DELETE')).status).toBe(404);
    await eventually(async () => !(await client.models.list()).data.some((model) => model.id === 'instant-model'), 'the start-up models (MODELS) to be served again', 10_000);
    await expect(client.chat.completions.create({ model: 'instant-model', messages: ask('sights?') })).rejects.toMatchObject({ status: 404 });
    expect((await client.chat.completions.create({ model: 'mock-gpt', messages: ask('sights?') })).choices[0]?.message.content).toContain('City');

    const { data } = (await (await call('routing/versions', 'GET')).json()) as { data: { version: number; deleted: boolean; at: string }[] };
    expect(data.slice(0, 2)).toEqual([
      { version: deleted.version, deleted: true, at: expect.any(String) },
      { version: written.version, deleted: false, at: expect.any(String) },
    ]);
    const restored = (await (await call(`routing/versions/${written.version}/restore`, 'POST')).json()) as { version: number; body: { models: Record<string, unknown> } };
    expect(restored.version).toBe(deleted.version + 1);
    expect(Object.keys(restored.body.models)).toContain('instant-model');
    expect((await client.chat.completions.create({ model: 'instant-model', messages: ask('sights?') })).choices[0]?.message.content).toContain('City');
    expect((await call('routing/versions/999999/restore', 'POST')).status).toBe(404);
  });
});

describe('outages', () => {
  it('answers 503 within the publish timeout when the broker is unreachable, and reports not ready', async () => {
    const shared = { REDIS_PREFIX: `${uniqueName('e2e-outage')}:` };
    const cut = await startApp('access', { ...shared, ADMIN_TOKEN, ROCKETMQ_ENDPOINTS: '127.0.0.1:1', PUBLISH_TIMEOUT_MS: '2000' }, 'live');
    apps.push(cut);
    const url = `http://127.0.0.1:${cut.port}`;
    const { key } = (await (await fetch(`${url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: 'acme' }) })).json()) as { key: string };
    const started = Date.now();
    const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'extractive', messages: ask('hello?') }) });
    expect(response.status).toBe(503);
    expect((await response.json()).error).toMatchObject({ type: 'service_unavailable' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);
  });

  it('answers 503 at once when Redis is unreachable — on the API and the admin API — and reports not ready', async () => {
    const cut = await startApp('access', { REDIS_URL: 'redis://127.0.0.1:1', ADMIN_TOKEN }, 'live');
    apps.push(cut);
    const url = `http://127.0.0.1:${cut.port}`;
    const started = Date.now();
    const chat = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sk-aip-any-key-at-all', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'extractive', messages: ask('hello?') }) });
    expect(chat.status).toBe(503);
    expect((await chat.json()).error).toMatchObject({ type: 'service_unavailable', message: expect.stringMatching(/Redis.*unavailable/) });
    const created = await fetch(`${url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: 'acme' }) });
    expect(created.status).toBe(503);
    expect((await created.json()).error).toMatchObject({ type: 'service_unavailable' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);
    // Outages are logged as such, not as ioredis's unhandled error events.
    expect(cut.output.join('')).not.toContain('Unhandled error event');
  });
});
