// Over 400 lines on purpose: the adapter, the fallback chain and the router share one mock upstream
// and one Redis for all their cases; each top-level `describe` is one of the three.
import { startMockLlm, type MockLlm, type MockLlmOptions } from '@aip/mock-llm';
import { eventually, testRedis, uniqueName } from '@aip/testing';
import type { Redis } from 'ioredis';
import type { ChatChunk, ChatModelPort, ChatStreamRequest, ToolCall, ToolCallFragment } from './chat-model.port.ts';
import { CooldownStore } from './cooldown.store.ts';
import { FallbackChain, type ServedBy } from './fallback-chain.service.ts';
import { LlmError } from './llm.error.ts';
import { ModelRouter } from './model-router.service.ts';
import { OpenAICompatibleAdapter } from './openai-compatible.adapter.ts';
import { estimateToolDefinitionTokens } from './token-estimate.ts';
import { UnknownModelError } from './unknown-model.error.ts';
import { UnsupportedRequestError } from './unsupported-request.error.ts';

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
  const fragments: ToolCallFragment[] = [];
  let done: Extract<ChatChunk, { type: 'done' }> | undefined;
  let error: unknown;
  try {
    for await (const chunk of stream) {
      if (chunk.type === 'delta') deltas.push(chunk.text);
      else if (chunk.type === 'tool_call') fragments.push(chunk);
      else done = chunk;
    }
  } catch (caught) {
    error = caught;
  }
  return { deltas, text: deltas.join(''), fragments, toolCalls: reassemble(fragments), done, error };
}

/** Tool calls from their fragments, the way an OpenAI client does it: by index, arguments appended. */
function reassemble(fragments: readonly ToolCallFragment[]): ToolCall[] {
  const calls: ToolCall[] = [];
  for (const fragment of fragments) {
    const call = (calls[fragment.index] ??= { id: '', name: '', arguments: '' });
    if (fragment.id) call.id = fragment.id;
    if (fragment.name) call.name += fragment.name;
    call.arguments += fragment.arguments;
  }
  return calls;
}

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['city', 'unit'], additionalProperties: false },
  },
};
const timeTool = { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] } } };

async function viaChain(chain: FallbackChain, request: ChatStreamRequest = question) {
  let served: ServedBy | undefined;
  const result = await collect(chain.stream(request, (_provider, info) => (served = info)));
  return { ...result, served };
}

describe('OpenAICompatibleAdapter against the mock upstream', () => {
  it('streams deltas and the upstream usage', async () => {
    const upstream = await mock({ replyTokens: 6 });
    const result = await collect(adapter(upstream).stream(question));
    expect(result.error).toBeUndefined();
    expect(result.deltas).toEqual(['Echo:', ' hello', ' world', ' Echo:', ' hello', ' world']);
    // The provider's usage details (the mock reports half the prompt cached) and fingerprint are passed on as sent.
    expect(result.done).toEqual({ type: 'done', finishReason: 'stop', systemFingerprint: 'mock-fp', usage: { promptTokens: 4, completionTokens: 6, totalTokens: 10, cachedTokens: 2, reasoningTokens: 0 } });
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

  it('calls a tool: fragments in order reassemble into the call, then the tool result comes back as a turn', async () => {
    const upstream = await mock();
    const llm = adapter(upstream);
    const user = { role: 'user' as const, content: 'get_weather for Paris' };
    const first = await collect(llm.stream({ messages: [user], maxTokens: 100, forward: { tools: [weatherTool] } }));
    expect(first.error).toBeUndefined();
    expect(first.deltas).toEqual([]);
    // OpenAI's streaming shape: the fragment that names the call, then argument text to append.
    expect(first.fragments[0]).toEqual({ type: 'tool_call', index: 0, id: 'call_mock_1_0', name: 'get_weather', arguments: '' });
    expect(first.fragments.slice(1).every((fragment) => fragment.index === 0 && fragment.id === undefined && fragment.name === undefined && fragment.arguments.length > 0)).toBe(true);
    expect(first.fragments.length).toBeGreaterThan(2);
    expect(first.toolCalls).toEqual([{ id: 'call_mock_1_0', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' }]);
    expect(first.done).toMatchObject({ finishReason: 'tool_calls', usage: { promptTokens: 3, completionTokens: 2 } });

    const call = first.toolCalls[0] as ToolCall;
    const second = await collect(
      llm.stream({
        messages: [user, { role: 'assistant', content: '', toolCalls: [call] }, { role: 'tool', content: '18 degrees', toolCallId: call.id }],
        maxTokens: 100,
        forward: { tools: [weatherTool] },
      }),
    );
    expect(second.text).toBe('Tool said: 18 degrees');
    expect(second.fragments).toEqual([]);
    expect(second.done?.finishReason).toBe('stop');
  });

  it('sends tool turns as OpenAI messages, with the arguments text exactly as the model wrote it', async () => {
    const upstream = await mock();
    // Spacing, key order and 1.0 survive only if nothing parses and re-serialises the arguments.
    const call = { id: 'call_abc', name: 'get_weather', arguments: '{ "unit": "celsius",  "city": "Paris", "days": 1.0 }' };
    await collect(
      adapter(upstream).stream({
        messages: [{ role: 'user', content: 'weather?' }, { role: 'assistant', content: '', toolCalls: [call] }, { role: 'tool', content: 'sunny', toolCallId: 'call_abc' }],
        maxTokens: 100,
      }),
    );
    expect(upstream.stats().lastRequest?.messages).toEqual([
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: call.arguments } }] },
      { role: 'tool', content: 'sunny', tool_call_id: 'call_abc' },
    ]);
  });

  it('streams parallel tool calls by index, each named before its arguments', async () => {
    const upstream = await mock();
    const result = await collect(adapter(upstream).stream({ messages: [{ role: 'user', content: 'get_time and get_weather in Tokyo' }], maxTokens: 100, forward: { tools: [weatherTool, timeTool] } }));
    expect(result.fragments.map((fragment) => fragment.index)).toEqual([...result.fragments.map((fragment) => fragment.index)].sort());
    expect(result.fragments.filter((fragment) => fragment.name !== undefined).map((fragment) => [fragment.index, fragment.name])).toEqual([
      [0, 'get_time'],
      [1, 'get_weather'],
    ]);
    expect(result.toolCalls).toEqual([
      { id: 'call_mock_1_0', name: 'get_time', arguments: '{"zone":"Tokyo"}' },
      { id: 'call_mock_1_1', name: 'get_weather', arguments: '{"city":"Tokyo","unit":"celsius"}' },
    ]);
    expect(result.done?.finishReason).toBe('tool_calls');
  });

  it('forwards response_format json_schema and the answer follows the schema', async () => {
    const upstream = await mock();
    const responseFormat = {
      type: 'json_schema',
      json_schema: { name: 'answer', strict: true, schema: { type: 'object', properties: { answer: { type: 'string' }, score: { type: 'number' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['answer', 'score', 'tags'], additionalProperties: false } },
    };
    const result = await collect(adapter(upstream).stream({ ...question, forward: { response_format: responseFormat } }));
    expect(upstream.stats().lastRequest?.response_format).toEqual(responseFormat);
    expect(JSON.parse(result.text)).toEqual({ answer: 'world', score: 0, tags: [] });
    expect(result.done?.finishReason).toBe('stop');
  });

  it('forwards every OpenAI field verbatim and keeps the fields the port owns', async () => {
    const upstream = await mock();
    const forward = {
      tools: [weatherTool, timeTool],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
      parallel_tool_calls: false,
      response_format: { type: 'json_object' },
      stop: ['\n\n', 'END'],
      top_p: 0.5,
      seed: 42,
      presence_penalty: 0.5,
      frequency_penalty: -0.25,
      logit_bias: { '50256': -100, '1234': 5 },
      logprobs: true,
      top_logprobs: 3,
      reasoning_effort: 'low',
      user: 'user-7',
      metadata: { trace: 'abc' },
      vendor_extension: { nested: [1, 'two', null] },
      // Owned by the port: these must not reach the upstream as given.
      model: 'someone-else',
      stream: false,
      n: 3,
      max_tokens: 5,
      temperature: 2,
      stream_options: { include_usage: false },
    };
    const result = await collect(adapter(upstream).stream({ ...question, temperature: 0.3, forward }));
    const received = upstream.stats().received;
    expect(received).toHaveLength(1);
    const body = received[0] ?? {};
    const { model: _model, stream: _stream, n: _n, max_tokens: _maxTokens, temperature: _temperature, stream_options: _streamOptions, ...verbatim } = forward;
    for (const [field, value] of Object.entries(verbatim)) expect([field, body[field]]).toEqual([field, value]);
    expect(body).toMatchObject({ model: 'mock-model', stream: true, max_tokens: 100, temperature: 0.3, stream_options: { include_usage: true } });
    expect(body).not.toHaveProperty('n');
    // tool_choice forced get_time; the answer is that one call.
    expect(result.toolCalls).toEqual([{ id: 'call_mock_1_0', name: 'get_time', arguments: '{"zone":"world"}' }]);
  });

  it('counts tool definitions and tool-call arguments when the upstream reports no usage', async () => {
    const upstream = await mock({ omitUsage: true });
    const messages = [{ role: 'user' as const, content: 'get_weather for Paris' }];
    const plain = await collect(adapter(upstream).stream({ messages, maxTokens: 100 }));
    const withTools = await collect(adapter(upstream).stream({ messages, maxTokens: 100, forward: { tools: [weatherTool] } }));
    expect(withTools.done?.usage.estimated).toBe(true);
    expect((withTools.done?.usage.promptTokens ?? 0) - (plain.done?.usage.promptTokens ?? 0)).toBe(estimateToolDefinitionTokens({ tools: [weatherTool] }));
    // The call's name and arguments are the completion: '{"city":"Paris","unit":"celsius"}' alone is 9 tokens.
    expect(withTools.done?.usage.completionTokens).toBeGreaterThanOrEqual(9);
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

  it('sends requests with tools past the extractive responder, and refuses them for an alias without an LLM', async () => {
    const upstream = await mock();
    const router = new ModelRouter(
      {
        models: {
          chat: { providers: [{ name: uniqueName('extractive'), kind: 'extractive' }, { name: uniqueName('llm'), kind: 'openai-compatible', baseUrl: upstream.url, model: 'mock-model' }] },
          quotes: { providers: [{ name: uniqueName('extractive'), kind: 'extractive' }] },
        },
      },
      { cooldowns: new CooldownStore(redis, { prefix }) },
    );
    const request = { messages: [{ role: 'user' as const, content: 'get_weather for Oslo' }], maxTokens: 100, forward: { tools: [weatherTool] } };
    const served = await viaChain(router.resolve('chat'), request);
    expect(served.served?.model).toBe('mock-model');
    expect(served.toolCalls).toEqual([{ id: 'call_mock_1_0', name: 'get_weather', arguments: '{"city":"Oslo","unit":"celsius"}' }]);

    const refused = await viaChain(router.resolve('quotes'), request);
    expect(refused.error).toBeInstanceOf(UnsupportedRequestError);
    expect((refused.error as Error).message).toBe("The model 'quotes' cannot use tools");
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
