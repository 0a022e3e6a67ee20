import { ModelCatalog } from '@aip/chat-policy';
import type { ApiKeyRecord } from '@aip/keys';
import { PublishError, type EventPublisher } from '@aip/messaging';
import type { AdmissionFastPath } from '@aip/rate-limit';
import { IMAGE_TOKENS } from '@aip/llm';
import { ClaimCheck, type ObjectStore, type ConversationStore, type Task, type TaskEvent, type TaskStatus, type TaskStore } from '@aip/tasks';
import type { Redis } from 'ioredis';
import type { AccessEnv } from '../access.config.ts';
import { Moderation } from '../moderation/moderation.service.ts';
import { SubmissionService } from './submission.service.ts';

/** Tasks as the API shows them: created queued, ended once. */
class FakeTasks {
  readonly tasks = new Map<string, Task>();
  readonly finals = new Map<string, TaskEvent>();
  /** Ending a task fails too (Redis in trouble as well as the broker). */
  finishFails = false;

  async create(task: Pick<Task, 'id' | 'tenantId' | 'keyId' | 'model' | 'stream'> & { sessionId?: string }): Promise<Task> {
    const record: Task = { ...task, status: 'queued', createdAt: 1_700_000_000_000 };
    this.tasks.set(task.id, record);
    return { ...record };
  }

  async getForTenant(id: string, tenantId: string) {
    const task = this.tasks.get(id);
    return task?.tenantId === tenantId ? { ...task } : undefined;
  }

  async finish(id: string, status: TaskStatus, fields: Partial<Task>, event: TaskEvent) {
    if (this.finishFails) throw new Error('Redis connection lost');
    const task = this.tasks.get(id);
    if (!task) return false;
    Object.assign(task, fields, { status });
    this.finals.set(id, event);
    return true;
  }
}

/** The few Redis commands idempotency keys use: SET NX, GET, and its two compare-and-set scripts. */
class FakeRedis {
  readonly values = new Map<string, string>();

  async set(key: string, value: string, _px: 'PX', _ttl: number, _nx: 'NX') {
    if (this.values.has(key)) return null;
    this.values.set(key, value);
    return 'OK';
  }

  async get(key: string) {
    return this.values.get(key) ?? null;
  }

  async eval(script: string, _keys: number, key: string, expected: string, replacement?: string) {
    if (this.values.get(key) !== expected) return 0;
    if (script.includes("'DEL'")) this.values.delete(key);
    else this.values.set(key, replacement!);
    return 1;
  }
}

type Published = { type: string; data: Record<string, unknown>; tenantId: string };

const env = { MAX_MESSAGES: 8, REDIS_PREFIX: 'aip:', DEFAULT_MAX_TOKENS: 512, ADMISSION_DEADLINE_MS: 30_000, MAX_IMAGES: 8, MAX_IMAGE_BYTES: 1_048_576, MAX_TEXT_BODY_BYTES: 65_536 } as AccessEnv;
const key: ApiKeyRecord = { id: 'k1', tenantId: 'acme', status: 'active', createdAt: 0, hint: 'sk-aip-ab' };

function setup(options: { input?: 'block' | 'mask'; sessionOwner?: boolean; claims?: ClaimCheck } = {}) {
  const tasks = new FakeTasks();
  const redis = new FakeRedis();
  const published: Published[] = [];
  const owners: string[] = [];
  /** Set `failure` for a broker that refuses publishes. */
  const broker: { failure?: Error } = {};
  const sessions = { claim: async (_tenant: string, _session: string, owner: string) => (owners.push(owner), options.sessionOwner ?? true) };
  const publisher = {
    publish: async (type: string, data: Record<string, unknown>, { tenantId }: { tenantId: string }) => {
      if (broker.failure) throw broker.failure;
      published.push({ type, data, tenantId });
    },
  };
  const service = new SubmissionService(
    tasks as unknown as TaskStore,
    sessions as unknown as ConversationStore,
    publisher as unknown as EventPublisher,
    redis as unknown as Redis,
    env,
    new Moderation({ words: ['darn'], input: options.input ?? 'block' }),
    new ModelCatalog(['extractive', 'gpt-x']),
    // The limits never admit at once here: every request is handed to the limiter (libs/rate-limit's admission-fast-path.spec.ts covers the other way).
    { admit: async () => ({ admitted: false, reason: 'rate_limited' }) } as unknown as AdmissionFastPath,
    { catchUp: async () => undefined },
    options.claims,
  );
  const submit = (body: Record<string, unknown>, idempotencyKey?: string, as: ApiKeyRecord = key) => service.submit(as, service.parse({ model: 'gpt-x', messages: [{ role: 'user', content: 'Which sights are in Beijing?' }], ...body }), idempotencyKey);
  return { service, submit, tasks, published, owners, broker };
}

/** What the client gets for a refused request: the status and, in OpenAI's error shape, the code. */
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (error: { getStatus(): number; getResponse(): unknown }) => {
      const body = error.getResponse() as { error?: { code?: string } };
      return `${error.getStatus()} ${body.error?.code ?? '(no code)'}`;
    },
  );

describe('SubmissionService', () => {
  describe('parse', () => {
    it('refuses a body that is not a JSON object, and names the field that is wrong', () => {
      const { service } = setup();
      expect(() => service.parse('hello')).toThrow(expect.objectContaining({ status: 400, code: 'invalid_body' }));
      expect(() => service.parse({ model: 'gpt-x', messages: [] })).toThrow(expect.objectContaining({ status: 400, code: 'invalid_value', param: 'messages' }));
      expect(() => service.parse({ model: 'gpt-x', messages: Array.from({ length: 9 }, () => ({ role: 'user', content: 'x' })) })).toThrow(expect.objectContaining({ status: 400, param: 'messages' }));
    });

    it("takes OpenAI's request forms: developer messages, text parts, null content", () => {
      const { service } = setup();
      const parsed = service.parse({ model: 'gpt-x', messages: [{ role: 'developer', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Hi ' }, { type: 'text', text: 'there' }] }, { role: 'assistant', content: null }] });
      expect(parsed.messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi there' }, { role: 'assistant', content: '' }]);
      expect(parsed.stream).toBe(false);
    });
  });

  it('creates a queued task and submits the request for admission with everything the worker needs', async () => {
    const { submit, tasks, published } = setup();
    const profiled: ApiKeyRecord = { ...key, subAccount: 'team-a', profile: { city: 'Beijing' } };
    const task = await submit({ stream: true, max_tokens: 64, temperature: 0.2, user: 'u1', session_id: 's1', priority: 2, knowledge_bases: ['kb1'] }, undefined, profiled);

    expect(task).toMatchObject({ status: 'queued', tenantId: 'acme', keyId: 'k1', model: 'gpt-x', stream: true, sessionId: 's1' });
    expect(tasks.tasks.get(task.id)?.status).toBe('queued');
    expect(published).toEqual([
      {
        type: 'ai.request.submitted',
        tenantId: 'acme',
        data: expect.objectContaining({
          taskId: task.id, apiKeyId: 'k1', subAccount: 'team-a', sessionId: 's1', userId: 'u1', model: 'gpt-x',
          messages: [{ role: 'user', content: 'Which sights are in Beijing?' }],
          maxTokens: 64, temperature: 0.2, stream: true, priority: 2, knowledgeBases: ['kb1'], metadata: { city: 'Beijing' },
          estimatedPromptTokens: expect.any(Number), deadline: expect.any(String),
        }),
      },
    ]);
  });

  it('asks for the default number of tokens and priority when the request names none', async () => {
    const { submit, published } = setup();
    await submit({});
    expect(published[0]?.data).toMatchObject({ maxTokens: 512, priority: 5, stream: false });
    expect(published[0]?.data).not.toHaveProperty('metadata');
  });

  it('refuses models nobody serves (404) and models the key may not use (403), and submits nothing', async () => {
    const { submit, published, tasks } = setup();
    expect(await refusal(submit({ model: 'gpt-17' }))).toBe('404 model_not_found');
    expect(await refusal(submit({ model: 'gpt-x' }, undefined, { ...key, models: ['extractive'] }))).toBe('403 model_not_allowed');
    expect([published.length, tasks.tasks.size]).toEqual([0, 0]);
  });

  it('refuses a request with a listed word when the policy blocks, and masks it when the policy masks', async () => {
    const blocking = setup({ input: 'block' });
    expect(await refusal(blocking.submit({ messages: [{ role: 'user', content: 'oh darn' }] }))).toBe('400 content_policy_violation');
    expect(blocking.published).toEqual([]);

    const masking = setup({ input: 'mask' });
    await masking.submit({ messages: [{ role: 'user', content: 'oh darn' }] });
    expect(masking.published[0]?.data['messages']).toEqual([{ role: 'user', content: 'oh ****' }]);
  });

  // Regression (review of issue 14): words reached the model inside tool descriptions and the
  // arguments of earlier tool calls, which only `content` was screened for.
  it('screens what reaches the model besides the turns: tool definitions and earlier calls\' arguments', async () => {
    const tools = [{ type: 'function', function: { name: 'say', description: 'always say darn' } }];
    const call = { id: 'c1', type: 'function', function: { name: 'say', arguments: '{"word":"darn","n":1}' } };
    const blocking = setup({ input: 'block' });
    expect(await refusal(blocking.submit({ tools }))).toBe('400 content_policy_violation');
    expect(await refusal(blocking.submit({ messages: [{ role: 'assistant', content: '', tool_calls: [call] }, { role: 'tool', tool_call_id: 'c1', content: 'ok' }] }))).toBe('400 content_policy_violation');

    const masking = setup({ input: 'mask' });
    await masking.submit({ tools, messages: [{ role: 'assistant', content: '', tool_calls: [call] }, { role: 'tool', tool_call_id: 'c1', content: 'ok' }] });
    const data = masking.published[0]!.data as { forward: { tools: { function: { description: string } }[] }; messages: { toolCalls?: { arguments: string }[] }[] };
    expect(data.forward.tools[0]!.function.description).toBe('always say ****');
    expect(JSON.parse(data.messages[0]!.toolCalls![0]!.arguments)).toEqual({ word: '****', n: 1 });
  });

  it("continues a session only for the end user (or, without one, the key) that started it", async () => {
    const { submit, owners } = setup();
    await submit({ session_id: 's1', user: 'u1' });
    await submit({ session_id: 's2' });
    expect(owners).toEqual(['user:u1', 'key:k1']);

    const other = setup({ sessionOwner: false });
    expect(await refusal(other.submit({ session_id: 's1', user: 'u2' }))).toBe('403 session_not_owned');
    expect(other.published).toEqual([]);
  });

  describe('Idempotency-Key', () => {
    it('answers a retry with the same key and body with the same task, submitted once', async () => {
      const { submit, published } = setup();
      const first = await submit({}, 'req-1');
      const again = await submit({}, 'req-1');
      expect(again.id).toBe(first.id);
      expect(published).toHaveLength(1);
    });

    it('refuses the same key with another body (409), and keys of the wrong length (400)', async () => {
      const { submit } = setup();
      await submit({}, 'req-1');
      expect(await refusal(submit({ messages: [{ role: 'user', content: 'something else' }] }, 'req-1'))).toBe('409 idempotency_key_reused');
      expect(await refusal(submit({}, ''))).toMatch(/^400 /);
      expect(await refusal(submit({}, 'k'.repeat(257)))).toMatch(/^400 /);
    });

    it('keeps keys of different tenants apart', async () => {
      const { submit } = setup();
      const mine = await submit({}, 'req-1');
      const theirs = await submit({}, 'req-1', { ...key, id: 'k2', tenantId: 'globex' });
      expect(theirs.id).not.toBe(mine.id);
    });

    it.each(['failed', 'rejected'] as const)('lets a retry run again when the first attempt %s', async (status) => {
      const { submit, tasks, published } = setup();
      const first = await submit({}, 'req-1');
      await tasks.finish(first.id, status, {}, { type: 'error', code: 'x', message: 'x' });
      const retry = await submit({}, 'req-1');
      expect(retry.id).not.toBe(first.id);
      expect(published).toHaveLength(2);
      expect((await submit({}, 'req-1')).id).toBe(retry.id);
    });
  });

  describe('when the broker cannot take the request', () => {
    const down = () => new PublishError('BROKER_UNAVAILABLE', 'connect ECONNREFUSED');

    it('answers 503 and ends the task as failed; a retry with the same Idempotency-Key runs once the broker is back', async () => {
      const { submit, tasks, published, broker } = setup();
      broker.failure = down();
      expect(await refusal(submit({}, 'req-1'))).toBe('503 service_unavailable');
      const [failed] = [...tasks.tasks.values()];
      expect(failed).toMatchObject({ status: 'failed', error: { code: 'broker_unavailable' } });
      expect(tasks.finals.get(failed!.id)).toMatchObject({ type: 'error', status: 503 });

      broker.failure = undefined;
      const retry = await submit({}, 'req-1');
      expect(retry.id).not.toBe(failed!.id);
      expect(published.map((event) => event.data['taskId'])).toEqual([retry.id]);
    });

    it('lets the retry run even when the failed task could not be marked failed', async () => {
      const { submit, tasks, published, broker } = setup();
      broker.failure = down();
      tasks.finishFails = true;
      expect(await refusal(submit({}, 'req-1'))).toBe('503 service_unavailable');

      broker.failure = undefined;
      tasks.finishFails = false;
      const retry = await submit({}, 'req-1');
      expect(retry.status).toBe('queued');
      expect(published.map((event) => event.data['taskId'])).toEqual([retry.id]);
    });

    it('passes an error a retry cannot cure on as it is', async () => {
      const { submit, broker } = setup();
      broker.failure = new PublishError('INVALID_EVENT', 'bad event');
      await expect(submit({})).rejects.toBe(broker.failure);
    });
  });

  describe('images', () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201ff5a2c5c0000000049454e44ae426082', 'hex');
    const inline = `data:image/png;base64,${png.toString('base64')}`;
    // The object store in memory (RedisObjectStore itself: libs/tasks redis-object-store.adapter.int-spec.ts).
    const memory = (): ObjectStore => {
      const objects = new Map<string, Uint8Array>();
      return { put: async (key, bytes) => void objects.set(key, bytes), get: async (key) => objects.get(key) };
    };

    it('travel as a claim check: the message carries a reference the worker redeems for this tenant and task, never the bytes', async () => {
      const claims = new ClaimCheck(memory());
      const { submit, published } = setup({ claims });
      const content = [{ type: 'text', text: 'What is in this darn picture?' }, { type: 'image_url', image_url: { url: inline, detail: 'low' } }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }];
      const task = await submit({ messages: [{ role: 'user', content }] }).catch((error: unknown) => error);
      // The word list still reads the text parts.
      expect(task).toMatchObject({ status: 400, code: 'content_policy_violation' });

      const accepted = await submit({ messages: [{ role: 'user', content: [{ ...content[0], text: 'What is in this picture?' }, content[1], content[2]] }] });
      const [event] = published;
      const [message] = event!.data['messages'] as { content: string; parts: { type: string; ref?: { key: string } }[] }[];
      expect(message).toEqual({
        role: 'user',
        content: 'What is in this picture?',
        parts: [
          { type: 'text', text: 'What is in this picture?' },
          { type: 'image', ref: { key: expect.stringMatching(new RegExp(`/${accepted.id}/0$`)), mediaType: 'image/png', bytes: png.byteLength }, detail: 'low' },
          { type: 'image', url: 'https://example.com/cat.png' },
        ],
      });
      expect(JSON.stringify(event!.data)).not.toContain(png.toString('base64'));
      expect(await claims.redeem('acme', accepted.id, message!.parts[1]!.ref as never)).toEqual(new Uint8Array(png));
      // Each image counts a fixed estimate, as the worker's estimate does.
      expect(event!.data['estimatedPromptTokens']).toBeGreaterThanOrEqual(2 * IMAGE_TOKENS);
    });

    it('are refused with the status and the part named when they break a limit, and the text a broker message carries is bounded', async () => {
      const { service } = setup({ claims: new ClaimCheck(memory()) });
      const ask = (url: string) => ({ model: 'gpt-x', messages: [{ role: 'user', content: [{ type: 'text', text: 'what?' }, { type: 'image_url', image_url: { url } }] }] });
      expect(() => service.parse(ask(`data:image/png;base64,${Buffer.alloc(1_048_577).toString('base64')}`))).toThrow(expect.objectContaining({ status: 413, code: 'image_too_large', param: 'messages[0].content[1]' }));
      expect(() => service.parse(ask('http://example.com/cat.png'))).toThrow(expect.objectContaining({ status: 400, code: 'invalid_image_url', param: 'messages[0].content[1]' }));
      // A large inline image passes where the same amount of text does not.
      expect(() => service.parse(ask(`data:image/png;base64,${Buffer.alloc(100_000).toString('base64')}`))).not.toThrow();
      expect(() => service.parse({ model: 'gpt-x', messages: [{ role: 'user', content: 'x'.repeat(100_000) }] })).toThrow(expect.objectContaining({ status: 413, code: 'request_too_large' }));
    });
  });
});
