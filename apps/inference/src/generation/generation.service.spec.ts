import { jest } from '@jest/globals';
import type { Envelope } from '@aip/contracts';
import { LlmError, UnsupportedRequestError, type ChatChunk, type ChatStreamRequest, type ModelRouter } from '@aip/llm';
import type { EventPublisher } from '@aip/messaging';
import { ClaimCheck, textItem, type ObjectStore, StaleRunError, type ImageRef, TERMINAL_STATUSES, type ProfileStore, type RunLiveness, type ConversationStore, type Task, type TaskEvent, type TaskStatus, type TaskStore } from '@aip/tasks';
import { pino } from 'pino';
import type { InferenceEnv } from '../inference.config.ts';
import { GenerationService } from './generation.service.ts';

/**
 * One task as a client sees it (its record and its event stream), with the store's rules: one
 * run writes its output at a time, and a task ends once.
 */
class FakeTasks {
  task: Task | undefined = { id: 't1', tenantId: 'acme', keyId: 'k1', model: 'gpt-x', stream: true, status: 'queued', createdAt: 0 };
  readonly events: TaskEvent[] = [];
  cancelRequested = false;
  runsBegun = 0;
  /** The task ends (a cancel, another worker) after the worker read it, before its run begins. */
  endsBeforeRunBegins: TaskStatus | undefined;
  /** Makes the run's next append fail like a run another delivery took over. */
  takeOverBeforeAppend: number | undefined;
  private appends = 0;

  async get() {
    return this.task && { ...this.task };
  }

  async isCancelled() {
    return this.cancelRequested;
  }

  /** What each begun run promised about its liveness, and the reservation it holds. */
  readonly runOptions: { liveness?: RunLiveness; reservationId?: string }[] = [];
  heartbeats = 0;

  async beginRun(id: string, fields: Partial<Task>, options: { liveness?: RunLiveness; reservationId?: string } = {}) {
    if (this.task && this.endsBeforeRunBegins) this.task.status = this.endsBeforeRunBegins;
    if (!this.task || this.ended) return undefined;
    this.runsBegun += 1;
    this.runOptions.push(options);
    Object.assign(this.task, fields, { status: 'running' });
    this.events.push({ type: 'status', status: 'running' });
    return {
      taskId: id,
      append: async (events: TaskEvent[]) => {
        if (events.length === 0) return;
        if (++this.appends === this.takeOverBeforeAppend) throw new StaleRunError(id, 'superseded');
        this.events.push(...events);
      },
      finish: (status: TaskStatus, fields: Partial<Task>, event: TaskEvent) => this.finish(id, status, fields, event),
      heartbeat: async () => {
        this.heartbeats += 1;
        return !this.ended;
      },
    };
  }

  async finish(_id: string, status: TaskStatus, fields: Partial<Task>, event: TaskEvent) {
    if (!this.task || this.ended) return false;
    Object.assign(this.task, fields, { status });
    this.events.push(event);
    return true;
  }

  get ended() {
    return this.task !== undefined && TERMINAL_STATUSES.includes(this.task.status);
  }

  /** The answer text a client following the stream has received. */
  get text() {
    return this.events.map((event) => (event.type === 'delta' ? event.text : '')).join('');
  }
}

type Published = { type: string; data: Record<string, unknown>; tenantId: string };

/** A model that streams what `script` yields; `script` sees the request's abort signal. */
type Script = (signal: AbortSignal) => AsyncGenerator<ChatChunk>;

const done: ChatChunk = { type: 'done', usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5 }, finishReason: 'stop' };

function setup(script: Script, seen: ChatStreamRequest[] = [], vision: { images?: boolean; claims?: ClaimCheck } = {}) {
  const tasks = new FakeTasks();
  const published: Published[] = [];
  const turns: unknown[] = [];
  const history = { recent: async () => ({ items: [], seqs: [], older: 0 }), append: async (_tenant: string, _session: string, added: unknown[]) => (turns.push(...added), []) };
  const chain = {
    name: 'gpt-x',
    images: vision.images ?? false,
    async *stream(request: ChatStreamRequest, onProvider?: (name: string) => void) {
      seen.push(request);
      onProvider?.('provider-a');
      yield* script(request.signal ?? new AbortController().signal);
    },
  };
  const models = { resolve: () => chain, has: () => true, current: () => ({ models: {} }) };
  const publisher = {
    publish: async (type: string, data: Record<string, unknown>, options: { tenantId: string }) => void published.push({ type, data, tenantId: options.tenantId }),
  };
  const profiles = { forPrompt: async () => undefined };
  const env = { WORKER_ID: 'worker-a', REDIS_PREFIX: 'aip:', HISTORY_TOKEN_BUDGET: 2_000, DELTA_FLUSH_MS: 20, RAG_TOP_K: 0, RAG_REWRITE_TIMEOUT_MS: 3_000, LEASE_MS: 10_000, RUN_REDELIVERY_GRACE_MS: 60_000 } as InferenceEnv;
  const service = new GenerationService(
    tasks as unknown as TaskStore,
    history as unknown as ConversationStore,
    profiles as unknown as ProfileStore,
    models as unknown as ModelRouter,
    publisher as unknown as EventPublisher,
    env,
    pino({ level: 'silent' }),
    { catchUp: async () => undefined },
    undefined,
    vision.claims,
  );
  return { service, tasks, published, turns, types: () => published.map((event) => event.type) };
}

function admitted(request: Partial<Envelope<'ai.request.admitted'>['data']['request']> = {}): Envelope<'ai.request.admitted'> {
  return {
    id: 'evt-1',
    type: 'ai.request.admitted',
    version: 1,
    source: 'rate-limiter',
    time: new Date(0).toISOString(),
    tenantId: 'acme',
    data: {
      request: {
        taskId: 't1', apiKeyId: 'k1', model: 'gpt-x', messages: [{ role: 'user', content: 'Which sights are in Beijing?' }],
        maxTokens: 100, stream: true, priority: 5, deadline: new Date(60_000).toISOString(), estimatedPromptTokens: 6, ...request,
      },
      reservationId: 'r1',
      reservedTokens: 100,
      queuedMs: 4,
    },
  };
}

async function* words(...texts: string[]): AsyncGenerator<ChatChunk> {
  for (const text of texts) yield { type: 'delta', text };
  yield done;
}

describe('GenerationService', () => {
  it('streams the deltas to the task in order and completes it with the full text and usage', async () => {
    const { service, tasks, published, turns } = setup(() => words('The ', 'Forbidden ', 'City.'));
    await service.run(admitted({ sessionId: 's1' }), { attempt: 1, last: false });

    expect(tasks.events.map((event) => event.type)).toEqual(['status', 'delta', 'delta', 'delta', 'done']);
    expect(tasks.text).toBe('The Forbidden City.');
    expect(tasks.task).toMatchObject({ status: 'completed', result: 'The Forbidden City.', workerId: 'worker-a', attempt: 1, providerModel: 'provider-a', usage: { totalTokens: 5 } });
    expect(tasks.events.at(-1)).toEqual({ type: 'done', usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5 }, finishReason: 'stop', model: 'gpt-x' });
    // The limiter reconciles the reservation with the real usage.
    expect(published.map((event) => event.type)).toEqual(['ai.inference.started', 'ai.inference.completed']);
    expect(published[1]).toMatchObject({ tenantId: 'acme', data: { taskId: 't1', reservationId: 'r1', provider: 'provider-a', usage: { totalTokens: 5 }, finishReason: 'stop' } });
    // The next request of the session finds this turn.
    expect(turns).toEqual([textItem('user', 'Which sights are in Beijing?'), textItem('assistant', 'The Forbidden City.')]);
  });

  it('streams a model\'s tool calls to the task and completes it with the calls assembled, kept in the conversation', async () => {
    const { service, tasks, published, turns } = setup(async function* () {
      yield { type: 'tool_call', index: 0, id: 'call_1', name: 'get_weather', arguments: '{"city":' };
      yield { type: 'tool_call', index: 1, id: 'call_2', name: 'get_time', arguments: '{}' };
      yield { type: 'tool_call', index: 0, arguments: '"Beijing"}' };
      yield { ...done, finishReason: 'tool_calls' } as ChatChunk;
    });
    await service.run(admitted({ sessionId: 's1', forward: { tools: [{ type: 'function', function: { name: 'get_weather' } }] } }), { attempt: 1, last: false });

    expect(tasks.events.filter((event) => event.type === 'tool_call')).toHaveLength(3);
    expect(tasks.task).toMatchObject({
      status: 'completed',
      finishReason: 'tool_calls',
      toolCalls: [
        { id: 'call_1', name: 'get_weather', arguments: '{"city":"Beijing"}' },
        { id: 'call_2', name: 'get_time', arguments: '{}' },
      ],
    });
    expect(tasks.events.at(-1)).toMatchObject({ type: 'done', finishReason: 'tool_calls' });
    expect(published.at(-1)).toMatchObject({ type: 'ai.inference.completed', data: { finishReason: 'tool_calls' } });
    // The conversation keeps the calls: the client's next request brings their results.
    expect(turns).toEqual([
      textItem('user', 'Which sights are in Beijing?'),
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Beijing"}' },
      { type: 'function_call', call_id: 'call_2', name: 'get_time', arguments: '{}' },
    ]);
  });

  it('ends the task with a 400 naming the model when no provider of it can do what the request asks', async () => {
    const { service, tasks, types } = setup(async function* () {
      yield* [];
      throw new UnsupportedRequestError('extractive', [{ field: 'tools', does: 'use tools' }]);
    });
    await service.run(admitted({ forward: { tools: [] } }), { attempt: 1, last: false });
    expect(tasks.task).toMatchObject({ status: 'failed', error: { code: 'unsupported_capability', message: "The model 'extractive' cannot use tools" } });
    expect(tasks.events.at(-1)).toMatchObject({ type: 'error', status: 400 });
    expect(types()).toEqual(['ai.inference.started', 'ai.inference.failed']);
  });

  describe('images', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // The object store in memory (RedisObjectStore itself: libs/tasks redis-object-store.adapter.int-spec.ts).
    const memory = (): ObjectStore => {
      const objects = new Map<string, Uint8Array>();
      return { put: async (key, bytes) => void objects.set(key, bytes), get: async (key) => objects.get(key) };
    };
    const withImage = (ref: ImageRef) => ({
      messages: [{ role: 'user' as const, content: 'What is this?', parts: [{ type: 'text' as const, text: 'What is this?' }, { type: 'image' as const, ref, detail: 'low' as const }, { type: 'image' as const, url: 'https://example.com/cat.png' }] }],
    });

    it('reach the model with claim-checked images redeemed as data URIs, in order', async () => {
      const claims = new ClaimCheck(memory());
      const ref = await claims.check('acme', 't1', 0, { bytes: png, mediaType: 'image/png' });
      const seen: ChatStreamRequest[] = [];
      const { service, tasks } = setup(() => words('A cat.'), seen, { images: true, claims });
      await service.run(admitted(withImage(ref)), { attempt: 1, last: false });
      expect(tasks.task).toMatchObject({ status: 'completed', result: 'A cat.' });
      expect(seen[0]?.messages.at(-1)?.parts).toEqual([
        { type: 'text', text: 'What is this?' },
        { type: 'image', url: `data:image/png;base64,${Buffer.from(png).toString('base64')}`, detail: 'low' },
        { type: 'image', url: 'https://example.com/cat.png' },
      ]);
    });

    it('end the task with 400 unsupported_capability naming the model when none of its providers reads images, before any is asked', async () => {
      const seen: ChatStreamRequest[] = [];
      const { service, tasks, types } = setup(() => words('blind'), seen, { images: false });
      await service.run(admitted(withImage({ key: `${'0'.repeat(32)}/t1/0`, mediaType: 'image/png', bytes: 8 })), { attempt: 1, last: false });
      expect(tasks.task).toMatchObject({ status: 'failed', error: { code: 'unsupported_capability', message: "The model 'gpt-x' cannot read images (it lacks the 'images' capability)" } });
      expect(tasks.events.at(-1)).toMatchObject({ type: 'error', status: 400 });
      expect(seen).toEqual([]);
      expect(types()).toEqual(['ai.inference.failed']);
    });

    it("are not read for another tenant: a reference to another tenant's image fails the task", async () => {
      const claims = new ClaimCheck(memory());
      const ref = await claims.check('globex', 't1', 0, { bytes: png, mediaType: 'image/png' });
      const seen: ChatStreamRequest[] = [];
      const { service, tasks } = setup(() => words('A cat.'), seen, { images: true, claims });
      await service.run(admitted(withImage(ref)), { attempt: 1, last: false });
      expect(tasks.task).toMatchObject({ status: 'failed', error: { code: 'image_unavailable' } });
      expect(tasks.events.at(-1)).toMatchObject({ type: 'error', status: 502 });
      expect(seen).toEqual([]);
    });
  });

  it('hands the request\'s forwarded fields and tool turns to the model', async () => {
    const seen: ChatStreamRequest[] = [];
    const { service } = setup(() => words('Tool said: 21 °C'), seen);
    const forward = { tools: [{ type: 'function', function: { name: 'get_weather' } }], seed: 7 };
    const messages = [
      { role: 'user' as const, content: 'weather?' },
      { role: 'assistant' as const, content: '', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{}' }] },
      { role: 'tool' as const, content: '21 °C', toolCallId: 'call_1' },
    ];
    await service.run(admitted({ messages, forward }), { attempt: 1, last: false });
    expect(seen[0]).toMatchObject({ forward, messages: messages.map((message) => expect.objectContaining(message)) });
  });

  it('ends the task as failed with a message fit for clients when the model fails, and tells the limiter', async () => {
    const { service, tasks, published } = setup(async function* () {
      yield { type: 'delta', text: 'The ' };
      throw new LlmError('server_error', 'upstream 10.0.0.7:8443 answered 500: {"detail":"kaput"}', { provider: 'provider-a' });
    });
    await service.run(admitted(), { attempt: 1, last: false });

    expect(tasks.task).toMatchObject({ status: 'failed', error: { code: 'server_error', message: 'The model provider failed; retry later.' } });
    expect(tasks.events.at(-1)).toEqual({ type: 'error', code: 'server_error', message: 'The model provider failed; retry later.', status: 502 });
    expect(JSON.stringify(tasks.events)).not.toContain('10.0.0.7');
    expect(published.map((event) => event.type)).toEqual(['ai.inference.started', 'ai.inference.failed']);
    expect(published[1]).toMatchObject({ data: { taskId: 't1', reservationId: 'r1', error: { code: 'server_error' } } });
  });

  it('answers 400, not 502, when the provider refused the request itself (a field it cannot take, too long a prompt)', async () => {
    const { service, tasks } = setup(async function* () {
      yield* [];
      throw new LlmError('bad_request', 'upstream 400: response_format json_object requires the word json', { provider: 'provider-a' });
    });
    await service.run(admitted({ forward: { response_format: { type: 'json_object' } } }), { attempt: 1, last: false });
    expect(tasks.events.at(-1)).toMatchObject({ type: 'error', code: 'bad_request', status: 400 });
  });

  it('stops when another delivery took the task over mid-way: rethrows, and neither completes the task nor publishes completion', async () => {
    const { service, tasks, types } = setup(() => words('one ', 'two ', 'three'));
    tasks.takeOverBeforeAppend = 2; // the first delta was written, the next batch is refused

    const outcome = service.run(admitted(), { attempt: 1, last: false });

    await expect(outcome).rejects.toBeInstanceOf(StaleRunError);
    await expect(outcome).rejects.toMatchObject({ reason: 'superseded' });
    expect(tasks.task?.status).toBe('running');
    expect(tasks.text).toBe('one ');
    expect(types()).toEqual(['ai.inference.started']);
  });

  it.each(['completed', 'failed', 'rejected'] as const)('leaves a task that already ended (%s) as it is', async (status) => {
    const { service, tasks, types } = setup(() => words('again'));
    tasks.task!.status = status;

    await service.run(admitted(), { attempt: 2, last: false });

    expect(tasks.runsBegun).toBe(0);
    expect(tasks.events).toEqual([]);
    expect(types()).toEqual([]);
  });

  it('writes nothing and publishes no completion for a task that ended while the worker got ready, and is done with the message', async () => {
    const { service, tasks, types } = setup(() => words('late ', 'answer'));
    tasks.endsBeforeRunBegins = 'cancelled';

    await service.run(admitted(), { attempt: 1, last: false }); // resolves: nothing to retry

    expect(tasks.events).toEqual([]);
    expect(tasks.task?.status).toBe('cancelled');
    expect(types()).not.toContain('ai.inference.completed');
  });

  it('does not generate a task cancelled before a worker took it, and gives its reservation back', async () => {
    const { service, tasks, types } = setup(() => words('never'));
    tasks.cancelRequested = true;

    await service.run(admitted(), { attempt: 1, last: false });

    expect(tasks.task?.status).toBe('cancelled');
    expect(tasks.events).toEqual([{ type: 'status', status: 'cancelled' }]);
    expect(tasks.runsBegun).toBe(0);
    expect(types()).toEqual(['ai.inference.cancelled']);
  });

  describe('a worker that dies mid-run', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());

    it.each([
      [false, 60_000],
      [true, 0],
    ])('keeps its run alive while it generates, so nobody ends the task (last delivery: %s, grace %i ms)', async (last, graceMs) => {
      let release!: () => void;
      const { service, tasks } = setup(async function* () {
        yield { type: 'delta', text: 'A slow ' };
        await new Promise<void>((resolve) => (release = resolve));
        yield* words('answer.');
      });
      const outcome = service.run(admitted(), { attempt: last ? 3 : 1, last });
      await jest.advanceTimersByTimeAsync(0);
      // A redelivery would take over a dead worker's run, except after the last delivery: the
      // broker dead-letters it, and the task must then end one lease after the last heartbeat.
      expect(tasks.runOptions).toEqual([{ liveness: { ttlMs: 10_000, graceMs }, reservationId: 'r1' }]);
      await jest.advanceTimersByTimeAsync(10_000);
      expect(tasks.heartbeats).toBe(3); // every third of the lease
      release();
      await outcome;
      await jest.advanceTimersByTimeAsync(10_000);
      expect(tasks.heartbeats).toBe(3); // none once the run ended
      expect(tasks.task).toMatchObject({ status: 'completed', result: 'A slow answer.' });
    });
  });

  describe('cancelled mid-stream', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());

    it('stops the model, keeps the text so far and ends the task as cancelled', async () => {
      let stopped = false;
      const { service, tasks, types } = setup(async function* (signal) {
        yield { type: 'delta', text: 'The Forbidden ' };
        // A slow model: the next token comes only when the request is aborted.
        await new Promise((_, reject) => signal.addEventListener('abort', () => ((stopped = true), reject(signal.reason)), { once: true }));
        yield { type: 'delta', text: 'City.' };
        yield done;
      });
      let returned = false;
      const outcome = service.run(admitted(), { attempt: 1, last: false }).then(() => (returned = true));
      await jest.advanceTimersByTimeAsync(0);
      expect(tasks.text).toBe('The Forbidden ');

      tasks.cancelRequested = true; // DELETE /v1/tasks/:id
      await jest.advanceTimersByTimeAsync(100); // the worker checks for a cancel every 100 ms
      expect(returned).toBe(true);
      await outcome;

      expect(stopped).toBe(true);
      expect(tasks.task).toMatchObject({ status: 'cancelled', result: 'The Forbidden ' });
      expect(tasks.events.at(-1)).toEqual({ type: 'status', status: 'cancelled' });
      expect(types()).toEqual(['ai.inference.started', 'ai.inference.cancelled']);
    });
  });
});
