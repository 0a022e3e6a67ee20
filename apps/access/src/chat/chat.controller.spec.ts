import { EventEmitter } from 'node:events';
import { ModelCatalog } from '@aip/chat-policy';
import type { ApiKeyRecord } from '@aip/keys';
import type { ApiError, AuthenticatedRequest } from '@aip/runtime';
import type { StoredEvent, Task, TaskEvent, TaskEventHub } from '@aip/tasks';
import type { FastifyReply } from 'fastify';
import type { AccessEnv } from '../access.config.ts';
import { Moderation } from '../moderation/moderation.service.ts';
import { chatRequestSchema, type ChatRequest } from './chat-request.schema.ts';
import { ChatController } from './chat.controller.ts';
import type { SubmissionService } from './submission.service.ts';

/** The socket side of a reply: what a streaming client receives. */
class FakeRaw extends EventEmitter {
  status: number | undefined;
  headers: Record<string, string> = {};
  readonly written: string[] = [];
  ended = false;

  writeHead(status: number, headers: Record<string, string>) {
    this.status = status;
    this.headers = headers;
  }

  write(chunk: string) {
    this.written.push(chunk);
    return true;
  }

  end(chunk?: string) {
    if (chunk) this.written.push(chunk);
    this.ended = true;
  }
}

/** What a JSON client receives, and the raw side for streams. */
class FakeReply {
  readonly headers: Record<string, string> = {};
  body: unknown;
  hijacked = false;
  readonly raw = new FakeRaw();

  header(name: string, value: string) {
    this.headers[name] = value;
    return this;
  }

  send(body: unknown) {
    this.body = body;
    return this;
  }

  hijack() {
    this.hijacked = true;
  }

  /** The SSE `data:` payloads written so far, JSON-parsed except `[DONE]`. */
  frames(): unknown[] {
    return this.raw.written
      .join('')
      .split('\n\n')
      .filter(Boolean)
      .map((frame) => {
        expect(frame.startsWith('data: ')).toBe(true);
        const data = frame.slice('data: '.length);
        return data === '[DONE]' ? data : JSON.parse(data);
      });
  }

  /** The answer text a streaming client puts together from the content deltas. */
  streamedText(): string {
    return this.frames()
      .map((frame) => (frame as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content ?? '')
      .join('');
  }
}

const key = { id: 'k1', tenantId: 'acme', status: 'active', createdAt: 0, hint: 'sk-aip-ab' } as ApiKeyRecord;
const task: Task = { id: 't1', tenantId: 'acme', keyId: 'k1', model: 'gpt-x', stream: false, status: 'queued', createdAt: 1_700_000_000_000 };
const usage = { promptTokens: 7, completionTokens: 4, totalTokens: 11 };
const done: TaskEvent = { type: 'done', usage, finishReason: 'stop', model: 'gpt-x' };
const delta = (text: string): TaskEvent => ({ type: 'delta', text });

/**
 * A controller whose task produces `events` (then its stream ends), or whatever `follow` yields.
 * The word list masks "forbidden".
 */
function setup(events: TaskEvent[] | Record<string, TaskEvent[]> | ((signal?: AbortSignal) => AsyncGenerator<TaskEvent>), keyModels?: string[]) {
  const submitted: { chat: ChatRequest; idempotencyKey: string | undefined }[] = [];
  const submissions = {
    parseFor: (_request: unknown, body: unknown) => chatRequestSchema(256).parse(body),
    // Task ids t1, t2, ... in the order of submission (one task per answer of `n`).
    submit: async (_key: ApiKeyRecord, chat: ChatRequest, idempotencyKey?: string) => (submitted.push({ chat, idempotencyKey }), { ...task, id: `t${submitted.length}`, stream: chat.stream }),
  };
  const followed: { taskId: string; signal: AbortSignal | undefined }[] = [];
  const hub = {
    async *follow(taskId: string, _afterId: string, signal?: AbortSignal): AsyncGenerator<StoredEvent> {
      followed.push({ taskId, signal });
      const list = Array.isArray(events) ? events : typeof events === 'object' ? (events[taskId] ?? []) : [];
      const source = typeof events === 'function' ? events(signal) : (async function* () { yield* list; })();
      let n = 0;
      for await (const event of source) yield { id: `1700000000000-${n++}`, event };
    },
  };
  const controller = new ChatController(
    submissions as unknown as SubmissionService,
    hub as unknown as TaskEventHub,
    { SYNC_TIMEOUT_MS: 600_000, EMBEDDINGS_MODEL_ALIAS: 'all-minilm-l6-v2' } as AccessEnv,
    new Moderation({ words: ['forbidden'], input: 'block' }),
    new ModelCatalog(['extractive', 'gpt-x', 'gpt-mini']),
  );
  const request = { id: 'req-1', apiKey: keyModels ? { ...key, models: keyModels } : key } as unknown as AuthenticatedRequest;
  const reply = new FakeReply();
  const complete = (body: Record<string, unknown> = {}, idempotencyKey?: string) =>
    controller.complete(request, reply as unknown as FastifyReply, { model: 'gpt-x', messages: [{ role: 'user', content: 'Which sights are in Beijing?' }], ...body }, idempotencyKey);
  return { controller, request, reply, complete, submitted, followed };
}

/** The HTTP error a client gets: status, OpenAI type and code, and headers. */
async function httpError(promise: Promise<unknown>) {
  const error = (await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )) as ApiError | undefined;
  if (!error) throw new Error('expected an HTTP error, the request succeeded');
  const { type, code } = error.getResponse().error;
  return { status: error.getStatus(), type, code, headers: error.headers };
}

describe('ChatController', () => {
  describe('GET /v1/models', () => {
    it('lists the models served that the key may use', () => {
      const { controller, request } = setup([], ['gpt-x', 'retired']);
      expect(controller.models(request).data.map((model) => model.id)).toEqual(['gpt-x']);
      const open = setup([]);
      expect(open.controller.models(open.request)).toMatchObject({ object: 'list', data: [{ id: 'extractive', object: 'model' }, { id: 'gpt-x' }, { id: 'gpt-mini' }, { id: 'all-minilm-l6-v2' }] });
    });
  });

  describe('n answers', () => {
    const events = {
      t1: [{ type: 'status', status: 'running' }, delta('The Forbidden City.'), done],
      t2: [{ type: 'status', status: 'running' }, delta('The Great '), delta('Wall.'), { ...done, usage: { promptTokens: 7, completionTokens: 3, totalTokens: 10 }, finishReason: 'length' }],
    } satisfies Record<string, TaskEvent[]>;

    it('are one task each, answered as choices 0..n-1 with the usage of all of them', async () => {
      const { complete, reply, submitted } = setup(events);
      await complete({ n: 2 });
      expect(submitted).toHaveLength(2);
      expect(reply.headers['x-task-id']).toBe('t1, t2');
      expect(reply.body).toMatchObject({
        id: 'chatcmpl-t1',
        choices: [
          { index: 0, message: { content: 'The ********* City.' }, finish_reason: 'stop' },
          { index: 1, message: { content: 'The Great Wall.' }, finish_reason: 'length' },
        ],
        usage: { prompt_tokens: 14, completion_tokens: 7, total_tokens: 21 },
      });
    });

    it('stream interleaved, each chunk naming its choice, the usage chunk after both finished', async () => {
      const { complete, reply } = setup(events);
      await complete({ n: 2, stream: true, stream_options: { include_usage: true } });
      const frames = reply.frames().filter((frame) => frame !== '[DONE]') as { choices: { index: number; delta: { content?: string }; finish_reason: string | null }[]; usage?: unknown }[];
      const textOf = (index: number) => frames.flatMap((frame) => frame.choices.filter((choice) => choice.index === index).map((choice) => choice.delta.content ?? '')).join('');
      expect(textOf(0)).toBe('The ********* City.');
      expect(textOf(1)).toBe('The Great Wall.');
      expect(frames.flatMap((frame) => frame.choices.filter((choice) => choice.finish_reason).map((choice) => [choice.index, choice.finish_reason])).sort()).toEqual([[0, 'stop'], [1, 'length']]);
      expect(frames.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 21 } });
      expect(reply.raw.written.at(-1)).toBe('data: [DONE]\n\n');
    });

    it('fail as a whole when one of them is refused', async () => {
      const refused: TaskEvent = { type: 'error', code: 'rate_limited', message: 'rate limited', status: 429, retryAfterMs: 2_000 };
      const { complete } = setup({ t1: events.t1, t2: [refused] });
      expect(await httpError(complete({ n: 2 }))).toMatchObject({ status: 429, code: 'rate_limited' });
    });
  });

  describe('POST /v1/chat/completions, not streaming', () => {
    it('answers with the whole text, masked, its usage and the ids to trace it', async () => {
      const { complete, reply, submitted } = setup([{ type: 'status', status: 'running' }, delta('The Forbid'), delta('den City and the Great Wall.'), done]);
      await complete({}, 'idem-1');

      expect(submitted).toEqual([{ chat: expect.objectContaining({ model: 'gpt-x', stream: false }), idempotencyKey: 'idem-1' }]);
      expect(reply.headers).toEqual({ 'x-request-id': 'req-1', 'x-task-id': 't1' });
      expect(reply.body).toEqual({
        id: 'chatcmpl-t1',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gpt-x',
        choices: [{ index: 0, message: { role: 'assistant', content: 'The ********* City and the Great Wall.', refusal: null }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 },
      });
    });

    it('answers a model\'s tool calls in OpenAI\'s shape: content null, the calls assembled, finish_reason tool_calls', async () => {
      const { complete, reply } = setup([
        { type: 'tool_call', index: 0, id: 'call_1', name: 'weather', arguments: '{"city":' },
        { type: 'tool_call', index: 0, arguments: '"Beijing"}' },
        { ...done, finishReason: 'tool_calls' },
      ]);
      await complete({ tools: [{ type: 'function', function: { name: 'weather' } }] });
      expect(reply.body).toMatchObject({
        choices: [{ message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Beijing"}' } }] }, finish_reason: 'tool_calls' }],
      });
    });

    it('tells the client where its limits stand, as OpenAI\'s x-ratelimit-* headers, from its admission', async () => {
      const limits = { requests: { limit: 60, remaining: 41.7, resetMs: 19_300 }, tokens: { limit: 100_000, remaining: 98_000, resetMs: 60_000 } };
      const { complete, reply } = setup([{ type: 'status', status: 'running', limits }, delta('Yes.'), done]);
      await complete();
      expect(reply.headers).toMatchObject({
        'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': '41', 'x-ratelimit-reset-requests': '19.3s',
        'x-ratelimit-limit-tokens': '100000', 'x-ratelimit-remaining-tokens': '98000', 'x-ratelimit-reset-tokens': '60s',
      });
      const streamed = setup([{ type: 'status', status: 'running', limits: { requests: limits.requests } }, delta('Yes.'), done]);
      await streamed.complete({ stream: true });
      expect(streamed.reply.raw.headers).toMatchObject({ 'x-ratelimit-remaining-requests': '41' });
      expect(streamed.reply.raw.headers).not.toHaveProperty('x-ratelimit-limit-tokens');
    });

    it('answers with the text of the run that finished when a worker died and another started over', async () => {
      const { complete, reply } = setup([delta('A long first attempt that '), { type: 'restart', attempt: 2 }, delta('Short.'), done]);
      await complete();
      expect(reply.body).toMatchObject({ choices: [{ message: { content: 'Short.' } }] });
    });

    it('passes on the passages the answer cites', async () => {
      const sources = [{ kbId: 'kb1', docId: 'beijing.md', title: 'Beijing' }];
      const { complete, reply } = setup([delta('See the Great Wall.'), { ...done, sources } as TaskEvent]);
      await complete();
      expect(reply.body).toMatchObject({ sources });
    });

    it.each([
      ['a rate limit', { status: 429, code: 'rate_limited', retryAfterMs: 2_500, limit: 10, remaining: 0 }, { status: 429, type: 'rate_limit_error', code: 'rate_limited', headers: { 'retry-after': '3', 'x-ratelimit-reset-requests': '3s', 'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '0' } }],
      ['a token budget', { status: 429, code: 'token_budget_exceeded', retryAfterMs: 60_000, limit: 1_000, remaining: 12.7 }, { status: 429, type: 'rate_limit_error', code: 'token_budget_exceeded', headers: { 'retry-after': '60', 'x-ratelimit-reset-tokens': '60s', 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '12' } }],
      ['an unknown model', { status: 404, code: 'model_not_found' }, { status: 404, type: 'not_found_error', code: 'model_not_found', headers: {} }],
      ['an outage', { status: 503, code: 'worker_failed' }, { status: 503, type: 'service_unavailable', code: 'worker_failed', headers: {} }],
      ['a model failure', { status: 502, code: 'server_error' }, { status: 502, type: 'api_error', code: 'server_error', headers: {} }],
    ])('turns %s into the matching HTTP error', async (_case, error, expected) => {
      const { complete } = setup([{ type: 'error', message: 'refused', ...error }]);
      expect(await httpError(complete())).toEqual(expected);
    });

    it('answers 504 when the task does not finish in time', async () => {
      const { complete, reply } = setup([delta('The ')]);
      expect(await httpError(complete())).toMatchObject({ status: 504, code: 'timeout' });
      expect(reply.body).toBeUndefined();
    });
  });

  describe('POST /v1/chat/completions, streaming', () => {
    it("streams OpenAI's chunk format: the role first, masked content, the finish reason, usage, then [DONE]", async () => {
      const { complete, reply } = setup([{ type: 'status', status: 'running' }, delta('The Forbid'), delta('den City'), delta(' and the Great Wall.'), done]);
      await complete({ stream: true, stream_options: { include_usage: true } });

      expect(reply.hijacked).toBe(true);
      expect(reply.raw.status).toBe(200);
      expect(reply.raw.headers).toMatchObject({ 'content-type': 'text/event-stream', 'x-request-id': 'req-1', 'x-task-id': 't1' });
      const frames = reply.frames();
      const chunk = { id: 'chatcmpl-t1', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-x' };
      expect(frames[0]).toEqual({ ...chunk, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }] });
      expect(frames.at(-3)).toEqual({ ...chunk, choices: [{ index: 0, delta: {}, finish_reason: 'stop', logprobs: null }] });
      expect(frames.at(-2)).toEqual({ ...chunk, choices: [], usage: { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 } });
      expect(frames.at(-1)).toBe('[DONE]');
      // The word is masked although it arrived split over two deltas.
      expect(reply.streamedText()).toBe('The ********* City and the Great Wall.');
      expect(reply.raw.ended).toBe(true);
    });

    it('streams tool calls as OpenAI does: id, type and name first, then argument fragments, then finish_reason tool_calls', async () => {
      const { complete, reply } = setup([
        { type: 'tool_call', index: 0, id: 'call_1', name: 'weather', arguments: '' },
        { type: 'tool_call', index: 0, arguments: '{"city":"Beijing"}' },
        { ...done, finishReason: 'tool_calls' },
      ]);
      await complete({ stream: true });
      const deltas = reply.frames().flatMap((frame) => (typeof frame === 'object' ? (frame as { choices: { delta: unknown; finish_reason: unknown }[] }).choices : []));
      const calls = deltas.flatMap((choice) => (choice.delta as { tool_calls?: { index: number; id?: string; function: { name?: string; arguments: string } }[] }).tool_calls ?? []);
      expect(calls[0]).toEqual({ index: 0, id: 'call_1', type: 'function', function: { name: 'weather', arguments: '' } });
      expect(calls.slice(1).every((call) => call.id === undefined && call.function.name === undefined)).toBe(true);
      expect(calls.map((call) => call.function.arguments).join('')).toBe('{"city":"Beijing"}');
      expect(deltas.at(-1)!.delta).toEqual({});
      expect(deltas.at(-1)!.finish_reason).toBe('tool_calls');
    });

    it('masks words on the list in tool-call arguments, across fragments, and the arguments stay JSON', async () => {
      const { complete, reply } = setup([
        { type: 'tool_call', index: 0, id: 'call_1', name: 'search', arguments: '{"q":"the Forbid' },
        { type: 'tool_call', index: 0, arguments: 'den City"}' },
        { ...done, finishReason: 'tool_calls' },
      ]);
      await complete({ stream: true });
      const fragments = reply.frames().flatMap((frame) => (typeof frame === 'object' ? (frame as { choices: { delta: { tool_calls?: { function: { arguments: string } }[] } }[] }).choices : []));
      const args = fragments.flatMap((choice) => choice.delta.tool_calls ?? []).map((call) => call.function.arguments).join('');
      expect(JSON.parse(args)).toEqual({ q: 'the ********* City' });
    });

    // Regression (review of issue 14): after a worker restart the client got the dead run's call id
    // and name with the new run's arguments glued on.
    it('tells a streaming client to retry when the worker restarts after part of a tool call was sent', async () => {
      const { complete, reply } = setup([
        { type: 'tool_call', index: 0, id: 'call_1', name: 'weather', arguments: '{"ci' },
        { type: 'restart', attempt: 2 },
        { type: 'tool_call', index: 0, id: 'call_9', name: 'time', arguments: '{}' },
        { ...done, finishReason: 'tool_calls' },
      ]);
      await complete({ stream: true });
      const frames = reply.frames();
      expect(frames.at(-2)).toEqual({ error: expect.objectContaining({ code: 'worker_restarted' }) });
      expect(JSON.stringify(frames)).not.toContain('call_9');
      expect(frames.at(-1)).toBe('[DONE]');
    });

    // Regression (issue 14): the usage chunk came unasked, and `chunk.choices[0].delta` threw on it.
    it('sends the usage chunk only when the request asked for it, as OpenAI does', async () => {
      const { complete, reply } = setup([delta('The end.'), done]);
      await complete({ stream: true });
      const frames = reply.frames();
      expect(frames.filter((frame) => typeof frame === 'object' && (frame as { choices: unknown[] }).choices.length === 0)).toEqual([]);
      expect(frames.at(-2)).toMatchObject({ choices: [{ finish_reason: 'stop' }] });
      expect(frames.at(-1)).toBe('[DONE]');
    });

    it('never sends a client again the text it already has when a worker died and another started over', async () => {
      const { complete, reply } = setup([delta('The Great '), { type: 'restart', attempt: 2 }, delta('The Great Wall is long.'), done]);
      await complete({ stream: true });
      expect(reply.streamedText()).toBe('The Great Wall is long.');
    });

    it('refuses with a real HTTP status when the task fails before the stream started', async () => {
      const { complete, reply } = setup([{ type: 'status', status: 'queued' }, { type: 'error', status: 429, code: 'rate_limited', message: 'slow down', retryAfterMs: 1_000 }]);
      expect(await httpError(complete({ stream: true }))).toMatchObject({ status: 429, code: 'rate_limited' });
      expect(reply.hijacked).toBe(false);
      expect(reply.raw.written).toEqual([]);
    });

    it('ends a stream that already started with an error frame when the model fails mid-way', async () => {
      const { complete, reply } = setup([delta('The Great '), { type: 'error', status: 502, code: 'server_error', message: 'The model provider failed; retry later.' }]);
      await complete({ stream: true });
      const frames = reply.frames();
      expect(frames.at(-2)).toEqual({ error: { message: 'The model provider failed; retry later.', type: 'api_error', code: 'server_error' } });
      expect(frames.at(-1)).toBe('[DONE]');
      expect(reply.raw.ended).toBe(true);
    });

    it('answers 504 when the task does not start in time', async () => {
      const { complete, reply } = setup([{ type: 'status', status: 'queued' }]);
      expect(await httpError(complete({ stream: true }))).toMatchObject({ status: 504, code: 'timeout' });
      expect(reply.hijacked).toBe(false);
    });

    it('stops following the task when the client goes away', async () => {
      const { complete, reply, followed } = setup(async function* (signal) {
        yield delta('The Great ');
        await new Promise((resolve) => signal?.addEventListener('abort', resolve, { once: true }));
      });
      let returned = false;
      const answered = complete({ stream: true }).then(() => (returned = true));
      await new Promise((resolve) => setImmediate(resolve)); // the first delta is through
      expect(reply.hijacked).toBe(true);
      expect(followed[0]?.signal?.aborted).toBe(false);

      reply.raw.emit('close');
      await new Promise((resolve) => setImmediate(resolve));
      expect(followed[0]?.signal?.aborted).toBe(true);
      expect(returned).toBe(true);
      await answered;
    });
  });
});
