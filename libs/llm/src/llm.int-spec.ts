import { startMockLlm, type MockLlm, type MockLlmOptions } from '@aip/mock-llm';
import { eventually, testRedis, uniqueName } from '@aip/testing';
import type { Redis } from 'ioredis';
import type { ChatChunk, ChatModelPort, ChatStreamRequest } from './chat-model.port.ts';
import { CooldownStore } from './cooldown.store.ts';
import { FallbackChain, type ServedBy } from './fallback-chain.service.ts';
import { LlmError } from './llm.error.ts';
import { ModelRouter } from './model-router.service.ts';
import { OpenAICompatibleAdapter } from './openai-compatible.adapter.ts';
import { UnknownModelError } from './unknown-model.error.ts';

// Real Redis (keys under a prefix unique to this run) and mock upstreams on free ports; provider
// names are unique per test so no test sees another's cooldowns.
const prefix = `${uniqueName('llm-it')}:`;
const mocks: MockLlm[] = [];
let redis: Redis;
let otherWorkerRedis: Redis;

beforeAll(() => {
  redis = testRedis();
  otherWorkerRedis = testRedis();
});

afterEach(async () => {
  await Promise.all(mocks.splice(0).map((mock) => mock.close()));
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  otherWorkerRedis.disconnect();
});

async function mock(options: MockLlmOptions = {}): Promise<MockLlm> {
  const started = await startMockLlm(options);
  mocks.push(started);
  return started;
}

function adapter(upstream: MockLlm, name = uniqueName('p')): OpenAICompatibleAdapter {
  return new OpenAICompatibleAdapter({ name, baseUrl: upstream.url, model: 'mock-model', apiKey: 'test-key' });
}

function chainOf(ports: ChatModelPort[], store: CooldownStore = new CooldownStore(redis, { prefix }), firstTokenTimeoutMs = 5_000): FallbackChain {
  return new FallbackChain({ name: 'chat', providers: ports.map((port) => ({ port, firstTokenTimeoutMs })), cooldowns: store });
}

const question: ChatStreamRequest = { messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello world' }], maxTokens: 100 };

async function collect(stream: AsyncIterable<ChatChunk>) {
  const deltas: string[] = [];
  let done: Extract<ChatChunk, { type: 'done' }> | undefined;
  let error: unknown;
  try {
    for await (const chunk of stream) {
      if (chunk.type === 'delta') deltas.push(chunk.text);
      else done = chunk;
    }
  } catch (caught) {
    error = caught;
  }
  return { deltas, text: deltas.join(''), done, error };
}

async function viaChain(chain: FallbackChain, request: ChatStreamRequest = question) {
  let served: ServedBy | undefined;
  const result = await collect(chain.stream(request, (_provider, info) => (served = info)));
  return { ...result, served };
}

describe('OpenAICompatibleAdapter against the mock upstream', () => {
  it('streams deltas and the upstream usage through ChatOpenAI', async () => {
    const upstream = await mock({ replyTokens: 6 });
    const result = await collect(adapter(upstream).stream(question));
    expect(result.error).toBeUndefined();
    expect(result.deltas).toEqual(['Echo:', ' hello', ' world', ' Echo:', ' hello', ' world']);
    expect(result.done).toEqual({ type: 'done', finishReason: 'stop', usage: { promptTokens: 4, completionTokens: 6, totalTokens: 10 } });
    expect(upstream.stats().lastRequest).toMatchObject({ model: 'mock-model', stream: true, stream_options: { include_usage: true }, max_tokens: 100 });
  });

  it('reports finishReason length when maxTokens cuts the answer', async () => {
    const upstream = await mock({ replyTokens: 50 });
    const result = await collect(adapter(upstream).stream({ ...question, maxTokens: 4 }));
    expect(result.deltas).toHaveLength(4);
    expect(result.done).toMatchObject({ finishReason: 'length', usage: { completionTokens: 4 } });
  });

  it('still yields usage when the upstream sends no usage chunk', async () => {
    const upstream = await mock({ replyTokens: 8, omitUsage: true });
    const result = await collect(adapter(upstream).stream(question));
    expect(result.deltas).toHaveLength(8);
    expect(result.done?.usage.estimated).toBe(true);
    expect(result.done?.usage.promptTokens).toBeGreaterThan(0);
    expect(result.done?.usage.completionTokens).toBeGreaterThan(0);
    expect(result.done?.usage.totalTokens).toBe((result.done?.usage.promptTokens ?? 0) + (result.done?.usage.completionTokens ?? 0));
  });

  it('sends passages to the model as a numbered system message', async () => {
    const upstream = await mock();
    await collect(adapter(upstream).stream({ ...question, passages: [{ text: 'Refunds take 14 days.', source: { docId: 'policy.md', version: 2 } }] }));
    const first = upstream.stats().lastRequest?.messages?.[0];
    expect(first?.role).toBe('system');
    expect(first?.content).toContain('[1] (doc policy.md, version 2) Refunds take 14 days.');
  });

  it('classifies upstream failures', async () => {
    const upstream = await mock({ fail: 'http400-context-length' });
    const { error } = await collect(adapter(upstream, 'ctx').stream(question));
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ kind: 'context_length', retryable: false, provider: 'ctx', status: 400 });
  });
});

describe('FallbackChain with the mock upstream and Redis cooldowns', () => {
  it('falls back to the second provider when the first returns 500, and cools the first down', async () => {
    const [bad, good] = [await mock({ fail: 'http500' }), await mock({ replyTokens: 3 })];
    const [a, b] = [adapter(bad), adapter(good)];
    const result = await viaChain(chainOf([a, b]));
    expect(result.error).toBeUndefined();
    expect(result.text).toBe('Echo: hello world');
    expect(result.served?.provider).toBe(b.name);
    expect(result.served?.attempts).toEqual([
      { provider: a.name, outcome: 'failed', kind: 'server_error', cooldownMs: 30_000 },
      { provider: b.name, outcome: 'served' },
    ]);
    expect(await redis.get(`${prefix}llm:cooldown:${a.name}`)).toBe('server_error');
    const ttl = await redis.pttl(`${prefix}llm:cooldown:${a.name}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('abandons a provider that hangs past firstTokenTimeoutMs and aborts its request', async () => {
    const [hanging, good] = [await mock({ fail: 'hang' }), await mock({ replyTokens: 3 })];
    const [a, b] = [adapter(hanging), adapter(good)];
    const result = await viaChain(chainOf([a, b], undefined, 300));
    expect(result.text).toBe('Echo: hello world');
    expect(result.served?.provider).toBe(b.name);
    expect(result.served?.attempts[0]).toMatchObject({ provider: a.name, outcome: 'failed', kind: 'timeout' });
    await eventually(() => hanging.stats().aborted === 1, 'the hanging upstream request is closed by the client');
    expect(await redis.get(`${prefix}llm:cooldown:${a.name}`)).toBe('timeout');
  });

  it('does not fall back once text was sent: the drop surfaces as an LlmError and text arrives once', async () => {
    const [dropping, good] = [await mock({ fail: 'drop-mid-stream', dropAfterTokens: 3, replyTokens: 10 }), await mock()];
    const [a, b] = [adapter(dropping), adapter(good)];
    const result = await viaChain(chainOf([a, b]));
    expect(result.deltas).toEqual(['Echo:', ' hello', ' world']);
    expect(result.error).toBeInstanceOf(LlmError);
    expect(result.error).toMatchObject({ kind: 'network', provider: a.name, attempts: [{ provider: a.name, outcome: 'failed', kind: 'network' }] });
    expect(result.done).toBeUndefined();
    expect(good.stats().requests).toBe(0);
  });

  it('shares cooldowns: a second worker skips the provider the first one saw failing', async () => {
    const [flaky, good] = [await mock({ fail: 'http500' }), await mock({ replyTokens: 3 })];
    const names = [uniqueName('flaky'), uniqueName('good')] as const;
    const worker1 = chainOf([adapter(flaky, names[0]), adapter(good, names[1])]);
    expect((await viaChain(worker1)).served?.provider).toBe(names[1]);
    expect(flaky.stats().requests).toBe(1);

    // The upstream recovers, but the cooldown is still running for everyone.
    flaky.setBehaviour({ fail: 'none' });
    const worker2 = chainOf([adapter(flaky, names[0]), adapter(good, names[1])], new CooldownStore(otherWorkerRedis, { prefix }));
    const second = await viaChain(worker2);
    expect(second.served?.provider).toBe(names[1]);
    expect(second.served?.attempts[0]).toMatchObject({ provider: names[0], outcome: 'skipped' });
    expect(second.served?.attempts[0]?.cooldownMs).toBeGreaterThan(0);
    expect(flaky.stats().requests).toBe(1);
    expect(good.stats().requests).toBe(2);
  });

  it('sets the cooldown of a 429 to its Retry-After', async () => {
    const [limited, good] = [await mock({ fail: 'http429', retryAfterSeconds: 120 }), await mock()];
    const [a, b] = [adapter(limited), adapter(good)];
    const result = await viaChain(chainOf([a, b]));
    expect(result.served?.provider).toBe(b.name);
    expect(result.served?.attempts[0]).toEqual({ provider: a.name, outcome: 'failed', kind: 'rate_limited', cooldownMs: 120_000 });
    expect(await redis.get(`${prefix}llm:cooldown:${a.name}`)).toBe('rate_limited');
    // Longer than the default rate-limit cooldown (10 s): the header decided.
    const ttl = await redis.pttl(`${prefix}llm:cooldown:${a.name}`);
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it('falls back on context-length errors without cooling the provider down', async () => {
    const [small, large] = [await mock({ fail: 'http400-context-length' }), await mock({ replyTokens: 2 })];
    const [a, b] = [adapter(small), adapter(large)];
    const result = await viaChain(chainOf([a, b]));
    expect(result.served?.provider).toBe(b.name);
    expect(result.served?.attempts[0]).toEqual({ provider: a.name, outcome: 'failed', kind: 'context_length' });
    expect(await redis.exists(`${prefix}llm:cooldown:${a.name}`)).toBe(0);
  });

  it('cools down long after an auth failure', async () => {
    const [badKey, good] = [await mock({ fail: 'http401' }), await mock()];
    const [a, b] = [adapter(badKey), adapter(good)];
    await viaChain(chainOf([a, b]));
    expect(await redis.get(`${prefix}llm:cooldown:${a.name}`)).toBe('auth');
    expect(await redis.pttl(`${prefix}llm:cooldown:${a.name}`)).toBeGreaterThan(300_000);
  });

  it('a shorter cooldown never cuts a longer one short', async () => {
    const store = new CooldownStore(redis, { prefix });
    const name = uniqueName('p');
    await store.coolDown(name, 600_000, 'auth');
    expect(await store.coolDown(name, 30_000, 'server_error')).toBeGreaterThan(30_000);
    expect(await redis.get(store.key(name))).toBe('auth');
  });

  it('when every provider cools down, tries the one whose cooldown ends first and lifts it on success', async () => {
    const [first, second] = [await mock(), await mock({ replyTokens: 2 })];
    const [a, b] = [adapter(first), adapter(second)];
    const store = new CooldownStore(redis, { prefix });
    await store.coolDown(a.name, 120_000, 'server_error');
    await store.coolDown(b.name, 60_000, 'server_error');
    const result = await viaChain(chainOf([a, b], store));
    expect(result.error).toBeUndefined();
    expect(result.served?.provider).toBe(b.name);
    expect(result.served?.attempts[0]).toMatchObject({ provider: a.name, outcome: 'skipped' });
    expect(first.stats().requests).toBe(0);
    await eventually(async () => (await redis.exists(store.key(b.name))) === 0, 'the cooldown of the provider that served is lifted');
    expect(await redis.exists(store.key(a.name))).toBe(1);
  });

  it('an AbortSignal stops the upstream stream', async () => {
    const slow = await mock({ tokensPerSecond: 50, replyTokens: 10_000 });
    const controller = new AbortController();
    const reason = new Error('client disconnected');
    const deltas: string[] = [];
    let error: unknown;
    try {
      for await (const chunk of chainOf([adapter(slow)]).stream({ ...question, maxTokens: 20_000, signal: controller.signal })) {
        if (chunk.type === 'delta') deltas.push(chunk.text);
        if (deltas.length === 2) controller.abort(reason);
      }
    } catch (caught) {
      error = caught;
    }
    expect(error).toBe(reason);
    expect(deltas).toHaveLength(2);
    await eventually(() => slow.stats().aborted === 1, 'the upstream sees the client close the stream');
    expect(slow.stats().completed).toBe(0);
    expect(slow.stats().tokensSent).toBeLessThan(10_000);
  });
});

describe('ModelRouter', () => {
  it('throws UnknownModelError for an alias that is not configured', () => {
    const router = new ModelRouter(undefined, { cooldowns: new CooldownStore(redis, { prefix }) });
    expect(() => router.resolve('gpt-4o')).toThrow(UnknownModelError);
  });

  it('serves an alias through its chain and falls back to the extractive responder', async () => {
    const upstream = await mock({ fail: 'http500' });
    const primary = uniqueName('primary');
    const router = new ModelRouter(
      {
        models: {
          chat: {
            providers: [
              { name: primary, kind: 'openai-compatible', baseUrl: upstream.url, model: 'mock-model', firstTokenTimeoutMs: 5_000 },
              { name: uniqueName('extractive'), kind: 'extractive' },
            ],
          },
        },
      },
      { cooldowns: new CooldownStore(redis, { prefix }) },
    );
    expect(router.aliases()).toEqual(['chat']);
    const result = await viaChain(router.resolve('chat'));
    expect(result.served?.model).toBe('extractive');
    expect(result.text).toMatch(/no knowledge to answer from/);
    expect(upstream.stats().requests).toBe(1);

    // A changed definition (say, a fixed URL or key) lifts the provider's cooldown.
    upstream.setBehaviour({ fail: 'none' });
    await router.update({
      models: { chat: { providers: [{ name: primary, kind: 'openai-compatible', baseUrl: upstream.url, model: 'mock-model-2' }] } },
    });
    expect(await redis.exists(`${prefix}llm:cooldown:${primary}`)).toBe(0);
    const after = await viaChain(router.resolve('chat'));
    expect(after.served?.provider).toBe(primary);
    expect(upstream.stats().lastRequest?.model).toBe('mock-model-2');
  });
});
