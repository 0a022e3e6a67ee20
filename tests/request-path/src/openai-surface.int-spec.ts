import { ChatOpenAI } from '@langchain/openai';
import { HumanMessage, ToolMessage } from '@langchain/core/messages';
import { startMockLlm, type MockLlm } from '@aip/mock-llm';
import { createKey, eventually, provisionNamespace, type RunningApp, startApp, startApps, stopApp, testRedis, uniqueName, uniqueNamespace } from '@aip/testing';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import ts from 'typescript';
import { z } from 'zod';

// What an agent written for OpenAI's API sends — tools, tool turns, structured output, sampling
// fields — goes through the platform's durable path (access → broker → limiter → worker → Redis)
// to an OpenAI-compatible provider as it was sent, and the tool calls come back in OpenAI's shape,
// streamed and not, for the official SDK and for LangChain (issue 14).
const ADMIN_TOKEN = 'e2e-admin-token-openai-surface-0123456789';
/** Access's MAX_IMAGE_BYTES here: small, so the oversized image of a test is small too. */
const IMAGE_LIMIT = 65_536;
const apps: RunningApp[] = [];
const REDIS_PREFIX = `${uniqueName('e2e-openai')}:`;
let upstream: MockLlm;
let slowUpstream: MockLlm;
let access: RunningApp;
let client: OpenAI;
let key: string;

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The current weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  },
};
const time = { type: 'function' as const, function: { name: 'get_time', description: 'The local time of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };

/** What the provider received last: the platform's request to it. */
const received = () => upstream.stats().lastRequest as unknown as Record<string, unknown> & { messages: Record<string, unknown>[] };

beforeAll(async () => {
  const namespace = uniqueNamespace('e2e-openai');
  await provisionNamespace(namespace);
  upstream = await startMockLlm({});
  // Ten seconds an answer: long enough to be cancelled mid-way.
  slowUpstream = await startMockLlm({ replyTokens: 200, tokensPerSecond: 20 });
  const routing = {
    models: {
      extractive: { providers: [{ name: 'extractive', kind: 'extractive' }] },
      'mock-agent': { providers: [{ name: 'agent-upstream', kind: 'openai-compatible', baseUrl: upstream.url, model: 'gpt-agent', firstTokenTimeoutMs: 5_000 }] },
      'mock-slow': { providers: [{ name: 'slow-upstream', kind: 'openai-compatible', baseUrl: slowUpstream.url, model: 'gpt-slow', firstTokenTimeoutMs: 5_000 }] },
      // Reads images: a text-only provider first, which a request with images must skip.
      'mock-vision': {
        providers: [
          { name: 'agent-upstream', kind: 'openai-compatible', baseUrl: upstream.url, model: 'gpt-agent', firstTokenTimeoutMs: 5_000 },
          { name: 'vision-upstream', kind: 'openai-compatible', baseUrl: upstream.url, model: 'gpt-vision', firstTokenTimeoutMs: 5_000, capabilities: ['images'] },
        ],
      },
    },
  };
  // Access stores inline images here and the worker reads them back (ADR 0028).
  const shared = { ROCKETMQ_NAMESPACE: namespace, REDIS_PREFIX };
  [, , access] = await startApps(apps, [
    startApp('rate-limiter', shared),
    startApp('inference', { ...shared, MODEL_ROUTING: JSON.stringify(routing), WORKER_ID: 'worker-openai' }),
    startApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'extractive,mock-agent,mock-vision,mock-slow', MAX_IMAGE_BYTES: String(IMAGE_LIMIT) }),
  ]);
  ({ key } = await createKey(access, ADMIN_TOKEN, { models: ['extractive', 'mock-agent', 'mock-vision', 'mock-slow'] }));
  client = new OpenAI({ apiKey: key, baseURL: `${access.url}/v1`, maxRetries: 0 });
}, 180_000);

afterAll(async () => {
  await Promise.all(apps.map(stopApp));
  await Promise.all([upstream, slowUpstream].map((mock) => mock?.close()));
});

describe('tools', () => {
  it('go round trip with the official SDK: tool_calls out, the tool\'s result back in, the answer; every field reaches the provider as sent', async () => {
    const ask = { role: 'user' as const, content: 'What is the weather in Beijing? Use get_weather.', name: 'alice' };
    const first = await client.chat.completions.create({ model: 'mock-agent', messages: [ask], tools: [weather], tool_choice: 'auto', seed: 7, top_p: 0.9, stop: ['\n\n'], logit_bias: { '50256': -100 } });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const [call] = choice.message.tool_calls!;
    expect(call).toMatchObject({ type: 'function', id: expect.any(String), function: { name: 'get_weather' } });
    expect(JSON.parse((call as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments)).toEqual({ city: expect.any(String) });
    expect(received()).toMatchObject({ tools: [weather], tool_choice: 'auto', seed: 7, top_p: 0.9, stop: ['\n\n'], logit_bias: { '50256': -100 } });
    expect(received().messages.at(-1)).toMatchObject({ role: 'user', name: 'alice' });

    const second = await client.chat.completions.create({ model: 'mock-agent', messages: [ask, choice.message, { role: 'tool', tool_call_id: call!.id, content: '21 °C, sunny' }], tools: [weather] });
    expect(second.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'Tool said: 21 °C, sunny' } });
    // The tool turns reach the provider as OpenAI messages, the model's arguments text unchanged.
    expect(received().messages.slice(-2)).toEqual([
      expect.objectContaining({ role: 'assistant', tool_calls: [expect.objectContaining({ id: call!.id, type: 'function', function: (call as OpenAI.ChatCompletionMessageFunctionToolCall).function })] }),
      expect.objectContaining({ role: 'tool', tool_call_id: call!.id, content: '21 °C, sunny' }),
    ]);
    // The task API holds them as well.
    const task = await (await fetch(`${access.url}/v1/tasks/${first.id.replace('chatcmpl-', '')}`, { headers: { authorization: `Bearer ${key}` } })).json();
    expect(task).toMatchObject({ status: 'completed', finishReason: 'tool_calls', toolCalls: [{ id: call!.id, name: 'get_weather' }] });
  });

  it('stream as OpenAI streams them: the SDK\'s stream helper assembles parallel calls from the deltas', async () => {
    const stream = client.chat.completions.stream({ model: 'mock-agent', messages: [{ role: 'user', content: 'Use get_weather and get_time for Hangzhou.' }], tools: [weather, time], parallel_tool_calls: true });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(final.choices[0]!.message.tool_calls!.map((call) => (call as OpenAI.ChatCompletionMessageFunctionToolCall).function.name)).toEqual(['get_weather', 'get_time']);
    for (const call of final.choices[0]!.message.tool_calls!) expect(() => JSON.parse((call as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments)).not.toThrow();
    expect(received()).toMatchObject({ stream: true, parallel_tool_calls: true });
  });

  it('are refused with a 400 naming the model when the model cannot call tools', async () => {
    const refused = await client.chat.completions.create({ model: 'extractive', messages: [{ role: 'user', content: 'weather?' }], tools: [weather] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ status: 400, code: 'unsupported_capability', message: expect.stringContaining('extractive') });
  });
});

describe('images', () => {
  // A 1×1 PNG.
  const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
  const ask = (url: string): OpenAI.ChatCompletionMessageParam[] => [{ role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url, detail: 'low' } }] }];

  it('reach a provider with the images capability inline, through the claim check: stored by access under the task, redeemed by the worker', async () => {
    const completion = await client.chat.completions.create({ model: 'mock-vision', messages: ask(`data:image/png;base64,${png}`) });
    const taskId = completion.id.replace('chatcmpl-', '');
    // Stored in Redis under the task, with the task's lifetime; the broker message carried only the key.
    const redis = testRedis();
    try {
      const [stored] = await redis.keys(`${REDIS_PREFIX}object:*/${taskId}/0`);
      expect(stored).toBeDefined();
      expect(await redis.pttl(stored!)).toBeGreaterThan(23 * 3_600_000);
    } finally {
      redis.disconnect();
    }
    expect(completion.choices[0]!.message.content).toMatch(/^I see 1 image\(s\) \(image\/png\)\. Echo: What is in this picture\?/);
    // The text-only provider listed first was not asked; the one with the capability got the image as sent.
    expect(received()).toMatchObject({ model: 'gpt-vision', messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}`, detail: 'low' } }] }] });
    // Images count in the prompt's usage estimate at access as at the provider: the answer was billed.
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(0);
  });

  it('go the same way through the task API', async () => {
    const response = await fetch(`${access.url}/v1/tasks`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock-vision', messages: ask('https://example.com/cat.png') }) });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    let task: { status?: string; result?: string } = {};
    await eventually(async () => {
      task = (await (await fetch(`${access.url}/v1/tasks/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as typeof task;
      return task.status !== 'queued' && task.status !== 'running';
    }, 'the task to end');
    expect(task).toMatchObject({ status: 'completed', result: expect.stringMatching(/^I see 1 image\(s\) \(url\)\./) });
  });

  it('are refused with a 400 naming the model and the capability by a model that cannot read them', async () => {
    const refused = await client.chat.completions.create({ model: 'extractive', messages: ask(`data:image/png;base64,${png}`) }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ status: 400, code: 'unsupported_capability', message: expect.stringMatching(/'extractive'.*'images' capability/) });
  });

  it('are refused when too large (413) or not https (400), naming the part', async () => {
    const big = Buffer.alloc(IMAGE_LIMIT + 1).toString('base64');
    await expect(client.chat.completions.create({ model: 'mock-vision', messages: ask(`data:image/png;base64,${big}`) })).rejects.toMatchObject({ status: 413, code: 'image_too_large', param: 'messages[0].content[1]' });
    await expect(client.chat.completions.create({ model: 'mock-vision', messages: ask('http://example.com/cat.png') })).rejects.toMatchObject({ status: 400, code: 'invalid_image_url', param: 'messages[0].content[1]' });
  });
});

describe('structured output', () => {
  it('works with the SDK\'s chat.completions.parse and a zod schema', async () => {
    const Weather = z.object({ city: z.string(), celsius: z.number(), sunny: z.boolean() });
    const completion = await client.chat.completions.parse({ model: 'mock-agent', messages: [{ role: 'user', content: 'The weather in Beijing as JSON.' }], response_format: zodResponseFormat(Weather, 'weather') });
    expect(Weather.safeParse(completion.choices[0]!.message.parsed).success).toBe(true);
    expect(received()).toMatchObject({ response_format: { type: 'json_schema', json_schema: { name: 'weather', strict: true } } });
  });

  it('answers JSON mode with a JSON object', async () => {
    const completion = await client.chat.completions.create({ model: 'mock-agent', messages: [{ role: 'user', content: 'Reply in JSON.' }], response_format: { type: 'json_object' } });
    expect(typeof JSON.parse(completion.choices[0]!.message.content!)).toBe('object');
  });
});

describe('LangChain', () => {
  it('runs an agent loop with bindTools, and withStructuredOutput, pointed at access', async () => {
    const model = new ChatOpenAI({ model: 'mock-agent', apiKey: key, configuration: { baseURL: `${access.url}/v1` }, maxRetries: 0 });
    const withTools = model.bindTools([weather]);
    const question = new HumanMessage('What is the weather in Xi\'an? Use get_weather.');
    const asked = await withTools.invoke([question]);
    expect(asked.tool_calls).toEqual([expect.objectContaining({ name: 'get_weather', args: { city: expect.any(String) } })]);
    const answered = await withTools.invoke([question, asked, new ToolMessage({ content: '3 °C, windy', tool_call_id: asked.tool_calls![0]!.id! })]);
    expect(answered.content).toBe('Tool said: 3 °C, windy');

    const structured = await model.withStructuredOutput(z.object({ city: z.string(), celsius: z.number() }), { name: 'weather' }).invoke('The weather in Xi\'an.');
    expect(structured).toEqual({ city: expect.any(String), celsius: expect.any(Number) });
  });
});

describe('rate-limit headers', () => {
  // Regression (issue 14): only 429s said where the limits stood; SDK users pace themselves by these.
  it('come with every successful answer, streamed and not, counting down', async () => {
    const { key: limited } = await createKey(access, ADMIN_TOKEN, { models: ['mock-agent'], policy: { id: 'paced', requestsPerMinute: 120, tokensPerMinute: 200_000 } });
    const paced = new OpenAI({ apiKey: limited, baseURL: `${access.url}/v1`, maxRetries: 0 });
    const ask = { model: 'mock-agent', messages: [{ role: 'user' as const, content: 'hello' }] };
    const first = await paced.chat.completions.create(ask).withResponse();
    expect(Object.fromEntries([...first.response.headers].filter(([name]) => name.startsWith('x-ratelimit-')))).toEqual({
      'x-ratelimit-limit-requests': '120',
      'x-ratelimit-remaining-requests': '119',
      'x-ratelimit-reset-requests': expect.stringMatching(/^\d+(\.\d+)?m?s$/),
      'x-ratelimit-limit-tokens': '200000',
      'x-ratelimit-remaining-tokens': expect.stringMatching(/^\d+$/),
      'x-ratelimit-reset-tokens': expect.stringMatching(/^\d+(\.\d+)?m?s$/),
    });
    const streamed = await paced.chat.completions.create({ ...ask, stream: true }).withResponse();
    for await (const chunk of streamed.data) void chunk;
    expect(Number(streamed.response.headers.get('x-ratelimit-remaining-requests'))).toBeLessThan(119);
  });
});

describe('embeddings', () => {
  const model = 'all-minilm-l6-v2';
  const dot = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);

  it('answer the SDK on the embedded model: a unit vector of 384 per text, like texts closer than unlike ones; listed by /v1/models', async () => {
    const { key: allowed } = await createKey(access, ADMIN_TOKEN, { models: ['extractive', model] });
    const sdk = new OpenAI({ apiKey: allowed, baseURL: `${access.url}/v1`, maxRetries: 0 });
    expect((await sdk.models.list()).data.map((listed) => listed.id)).toEqual(['extractive', model]);
    const texts = ['A cat sits on the mat.', 'A kitten is lying on a rug.', 'The central bank raised interest rates.'];
    // The SDK asks for base64 and decodes it.
    const answer = await sdk.embeddings.create({ model, input: texts });
    expect(answer).toMatchObject({ object: 'list', model });
    expect(answer.data.map((item) => item.index)).toEqual([0, 1, 2]);
    const [cat, kitten, bank] = answer.data.map((item) => item.embedding);
    expect(cat).toHaveLength(384);
    expect(dot(cat!, cat!)).toBeCloseTo(1, 3);
    expect(dot(cat!, kitten!)).toBeGreaterThan(dot(cat!, bank!) + 0.2);
    expect(answer.usage.prompt_tokens).toBeGreaterThan(3 * texts.length);

    const floats = await sdk.embeddings.create({ model, input: texts[0]!, encoding_format: 'float' });
    floats.data[0]!.embedding.forEach((value, i) => expect(value).toBeCloseTo(cat![i]!, 5));
  }, 60_000);

  it('refuse what they cannot honour with a 400 naming it, and a key without the model with a 403', async () => {
    const { key: allowed } = await createKey(access, ADMIN_TOKEN, { models: [model] });
    const sdk = new OpenAI({ apiKey: allowed, baseURL: `${access.url}/v1`, maxRetries: 0 });
    await expect(sdk.embeddings.create({ model, input: 'hello', dimensions: 256 })).rejects.toMatchObject({ status: 400, code: 'unsupported_dimensions', param: 'dimensions' });
    await expect(sdk.embeddings.create({ model, input: [[101, 7592, 102]] })).rejects.toMatchObject({ status: 400, code: 'unsupported_input' });
    await expect(sdk.embeddings.create({ model, input: 'word '.repeat(300) })).rejects.toMatchObject({ status: 400, code: 'context_length_exceeded' });
    await expect(sdk.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    await expect(client.embeddings.create({ model, input: 'hello' })).rejects.toMatchObject({ status: 403, code: 'model_not_allowed' });
  }, 60_000);

  // Regression (issue 14): embeddings went around the key's limits (only the per-IP limit applied).
  it("count against the key's limits as chats do: headers counting down, then 429 with Retry-After, for embeddings and chats alike", async () => {
    // Two at once, then one a minute: the next token comes after access's admission deadline (30 s),
    // so a chat over the limit is refused at once instead of waiting in the limiter's queue.
    const { key: limited } = await createKey(access, ADMIN_TOKEN, { models: ['mock-agent', model], policy: { id: 'one-a-minute', requestsPerMinute: 1, burst: 2 } });
    const sdk = new OpenAI({ apiKey: limited, baseURL: `${access.url}/v1`, maxRetries: 0 });
    const first = await sdk.embeddings.create({ model, input: 'hello' }).withResponse();
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toEqual(expect.any(String));
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    await sdk.embeddings.create({ model, input: 'hello again' });
    const refused = await sdk.embeddings.create({ model, input: 'one more' }).then(() => undefined, (error: unknown) => error as { status: number; code: string; headers: Headers });
    expect(refused).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
    // The same bucket: the key's chats are refused too.
    await expect(sdk.chat.completions.create({ model: 'mock-agent', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 429 });
  }, 60_000);
});

describe('log probabilities, usage details and the provider\'s fingerprint', () => {
  it('reach the client as the provider sent them, streamed and not (logprobs: true, top_logprobs)', async () => {
    const ask = { model: 'mock-agent', messages: [{ role: 'user' as const, content: 'hello there' }], logprobs: true, top_logprobs: 2 };
    const completion = await client.chat.completions.create(ask);
    const content = completion.choices[0]!.logprobs!.content!;
    // One entry per token the mock sent, spelling the answer, each with its two alternatives.
    expect(content.map((entry) => entry.token).join('')).toBe(completion.choices[0]!.message.content);
    expect(content.every((entry) => entry.top_logprobs.length === 2)).toBe(true);
    expect(completion.system_fingerprint).toEqual(expect.any(String));
    // The mock reports half the prompt as cached, and no reasoning: passed on, not made up.
    expect(completion.usage).toMatchObject({ prompt_tokens_details: { cached_tokens: Math.floor(completion.usage!.prompt_tokens / 2) }, completion_tokens_details: { reasoning_tokens: 0 } });

    let text = '';
    const tokens: string[] = [];
    let fingerprint: string | null | undefined;
    for await (const chunk of await client.chat.completions.create({ ...ask, stream: true })) {
      text += chunk.choices[0]?.delta.content ?? '';
      tokens.push(...(chunk.choices[0]?.logprobs?.content ?? []).map((entry) => entry.token));
      fingerprint = chunk.system_fingerprint ?? fingerprint;
    }
    expect(tokens.join('')).toBe(text);
    expect(fingerprint).toBe(completion.system_fingerprint);
    // A model that cannot give them says so.
    await expect(client.chat.completions.create({ ...ask, model: 'extractive' })).rejects.toMatchObject({ status: 400, code: 'unsupported_capability' });
  });
});

describe('n answers', () => {
  // Regression (issue 14): `n: 2` gave one choice.
  it('come as n choices, streamed and not, each its own generation; the task API asks for one task per answer', async () => {
    const ask = { model: 'mock-agent', messages: [{ role: 'user' as const, content: 'hello there' }], n: 3 };
    const completion = await client.chat.completions.create(ask).withResponse();
    expect(completion.data.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    expect(completion.response.headers.get('x-task-id')!.split(', ')).toHaveLength(3);
    const answer = completion.data.choices[0]!.message.content;
    expect(answer).toEqual(expect.any(String));
    const single = await client.chat.completions.create({ ...ask, n: 1 });
    expect(completion.data.usage!.completion_tokens).toBe(3 * single.usage!.completion_tokens);

    const texts = ['', '', ''];
    const finished: number[] = [];
    for await (const chunk of await client.chat.completions.create({ ...ask, stream: true })) {
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.delta.content ?? '';
        if (choice.finish_reason) finished.push(choice.index);
      }
    }
    // The mock answers a prompt the same way every time: three equal texts, three ends.
    expect(texts).toEqual([answer, answer, answer]);
    expect(finished.sort()).toEqual([0, 1, 2]);

    const task = await fetch(`${access.url}/v1/tasks`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(ask) });
    expect(task.status).toBe(400);
    expect((await task.json()).error).toMatchObject({ param: 'n', code: 'unsupported_parameter' });
  });
});

describe('the Responses API', () => {
  const weatherTool = { type: 'function' as const, name: 'get_weather', description: 'The current weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true };

  it('answers the SDK, keeps the response for GET and input_items, and continues a conversation from previous_response_id', async () => {
    const first = await client.responses.create({ model: 'mock-agent', instructions: 'Be brief.', input: 'hello there' });
    expect(first).toMatchObject({ object: 'response', status: 'completed', model: 'mock-agent', instructions: 'Be brief.', previous_response_id: null });
    expect(first.output_text).toMatch(/^Echo: hello there/);
    expect(first.usage!.input_tokens).toBeGreaterThan(0);
    expect(received().messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello there' }]);
    expect(await client.responses.retrieve(first.id)).toMatchObject({ id: first.id, status: 'completed', output: first.output });
    expect((await client.responses.inputItems.list(first.id)).data).toMatchObject([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello there' }] }]);

    const second = await client.responses.create({ model: 'mock-agent', previous_response_id: first.id, input: [{ role: 'user', content: [{ type: 'input_text', text: 'and then?' }] }] });
    expect(second).toMatchObject({ status: 'completed', previous_response_id: first.id });
    // The platform kept the conversation: the provider got it whole (the first instructions are not carried over, as OpenAI does).
    expect(received().messages).toEqual([{ role: 'user', content: 'hello there' }, { role: 'assistant', content: first.output_text }, { role: 'user', content: 'and then?' }]);

    await client.responses.delete(first.id);
    await expect(client.responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.create({ model: 'mock-agent', previous_response_id: first.id, input: 'again' })).rejects.toMatchObject({ status: 404, param: 'previous_response_id' });
    // Another tenant's key finds nothing of it.
    const { key: other } = await createKey(access, ADMIN_TOKEN, { tenantId: 'another-tenant', models: ['mock-agent'] });
    await expect(new OpenAI({ apiKey: other, baseURL: `${access.url}/v1`, maxRetries: 0 }).responses.retrieve(second.id)).rejects.toMatchObject({ status: 404 });
  });

  it('streams the semantic events in order, numbered, ending with response.completed', async () => {
    const stream = await client.responses.create({ model: 'mock-agent', input: 'stream this', stream: true });
    const types: string[] = [];
    const sequence: number[] = [];
    let text = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      sequence.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(sequence).toEqual(sequence.map((_, index) => index));
    expect(text).toMatch(/^Echo: stream this/);
    expect(completed!.output).toMatchObject([{ type: 'message', content: [{ type: 'output_text', text }] }]);

    // A client whose stream broke after event 3 resumes after it: the same events, the same numbers.
    const resumed: { type: string; sequence_number: number }[] = [];
    for await (const event of await client.responses.retrieve(completed!.id, { stream: true, starting_after: 3 })) resumed.push(event);
    expect(resumed.map((event) => event.sequence_number)).toEqual(sequence.slice(4));
    expect(resumed.map((event) => event.type)).toEqual(types.slice(4));
  });

  it('streams a background response, and follows it again from the start with GET ?stream=true', async () => {
    const types: string[] = [];
    let id = '';
    for await (const event of await client.responses.create({ model: 'mock-agent', input: 'background and streamed', background: true, stream: true })) {
      types.push(event.type);
      if (event.type === 'response.created') id = event.response.id;
    }
    expect(types.at(-1)).toBe('response.completed');
    const again: string[] = [];
    for await (const event of await client.responses.retrieve(id, { stream: true })) again.push(event.type);
    expect(again).toEqual(types);
    expect(await client.responses.retrieve(id)).toMatchObject({ status: 'completed', background: true });
  });

  it('runs a function-calling round trip, streamed and not', async () => {
    const asked = await client.responses.create({ model: 'mock-agent', input: 'What is the weather in Paris?', tools: [weatherTool] });
    const call = asked.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', call_id: expect.any(String), arguments: expect.stringContaining('city') });
    const answered = await client.responses.create({ model: 'mock-agent', previous_response_id: asked.id, tools: [weatherTool], input: [{ type: 'function_call_output', call_id: (call as { call_id: string }).call_id, output: '21 °C, sunny' }] });
    expect(answered.output_text).toBe('Tool said: 21 °C, sunny');

    const streamed: string[] = [];
    let args = '';
    for await (const event of await client.responses.create({ model: 'mock-agent', input: 'What is the weather in Paris?', tools: [weatherTool], stream: true })) {
      streamed.push(event.type);
      if (event.type === 'response.function_call_arguments.delta') args += event.delta;
    }
    expect(streamed).toContain('response.function_call_arguments.done');
    expect(JSON.parse(args)).toHaveProperty('city');
    expect(streamed.at(-1)).toBe('response.completed');
  });

  it('runs in the background: queued at once, polled to its end, continued from; cancelled while it runs', async () => {
    const textOf = (response: OpenAI.Responses.Response) => response.output.flatMap((item) => (item.type === 'message' ? item.content : [])).map((part) => (part.type === 'output_text' ? part.text : '')).join('');
    const queued = await client.responses.create({ model: 'mock-agent', input: 'in the background', background: true });
    expect(queued).toMatchObject({ status: 'queued', background: true, output: [] });
    let polled = queued;
    await eventually(async () => (polled = await client.responses.retrieve(queued.id)).status === 'completed', 'the background response to complete', 20_000);
    expect(textOf(polled)).toMatch(/^Echo: in the background/);
    expect(polled.usage!.output_tokens).toBeGreaterThan(0);
    expect((await client.responses.create({ model: 'mock-agent', previous_response_id: queued.id, input: 'more' })).status).toBe('completed');
    expect(received().messages.map((message) => message['role'])).toEqual(['user', 'assistant', 'user']);

    const slow = await client.responses.create({ model: 'mock-slow', input: 'take your time', background: true });
    await eventually(async () => (await client.responses.retrieve(slow.id)).status === 'in_progress', 'the slow response to start', 20_000);
    await client.responses.cancel(slow.id);
    await eventually(async () => (await client.responses.retrieve(slow.id)).status === 'cancelled', 'the slow response to be cancelled', 10_000);
  }, 60_000);

  it('refuses what it does not carry out with a 400 naming it', async () => {
    await expect(client.responses.create({ model: 'mock-agent', input: 'x', background: true, store: false })).rejects.toMatchObject({ status: 400, param: 'store' });
    await expect(client.responses.create({ model: 'mock-agent', input: 'x', prompt_cache_key: 'k' })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('prompt_cache_key') });
    // A conversation that is not there (conversations.int-spec.ts runs them).
    await expect(client.responses.create({ model: 'mock-agent', input: 'x', conversation: 'conv_1' })).rejects.toMatchObject({ status: 404, param: 'conversation' });
    await expect(client.responses.create({ model: 'no-such-model', input: 'x' })).rejects.toMatchObject({ status: 404 });
  });
});

describe('the README', () => {
  // Every example a user copies must run: this is the README's tool-calling example, as printed,
  // but for its key, base URL and model alias (`gpt` there, the mock's alias here).
  it('runs its tool-calling example against the platform unchanged', async () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const example = /### Tools and structured output[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain("client.chat.completions.create({ model: 'gpt', messages, tools })");
    const source = example!
      .replace("import OpenAI from 'openai';\n", '')
      .replace("'http://localhost:3000/v1'", JSON.stringify(`${access.url}/v1`))
      .replaceAll("model: 'gpt'", "model: 'mock-agent'");
    const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
    const AsyncFunction = (async () => undefined).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<{ first: OpenAI.ChatCompletion; answer: OpenAI.ChatCompletion }>;
    const { first, answer } = await new AsyncFunction('OpenAI', 'key', `${js}\nreturn { first, answer };`)(OpenAI, key);
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(first.choices[0]!.message.tool_calls![0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    expect(answer.choices[0]!.message.content).toBe('Tool said: 21 °C, sunny');
  });
});
