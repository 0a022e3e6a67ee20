import type { ChatChunk, ChatModelPort, ChatStreamRequest } from './chat-model.port.ts';
import type { CooldownStore } from './cooldown.store.ts';
import { FallbackChain, type ServedBy } from './fallback-chain.service.ts';
import { LlmError, type LlmErrorKind } from './llm.error.ts';
import { UnsupportedRequestError } from './unsupported-request.error.ts';

type Script =
  | { kind: 'ok'; words: string[] }
  | { kind: 'fail'; error: LlmErrorKind }
  | { kind: 'hang' }
  | { kind: 'fail-after'; words: string[]; error: LlmErrorKind }
  | { kind: 'stall-after'; words: string[] };

function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (signal?.aborted) reject(signal.reason);
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** A scripted provider that records what happened to its requests. */
class FakePort implements ChatModelPort {
  readonly model = 'fake';
  calls = 0;
  aborted = 0;
  constructor(
    readonly name: string,
    private readonly script: Script,
    readonly forwards = true,
    readonly images = false,
  ) {}

  async *stream(request: ChatStreamRequest): AsyncGenerator<ChatChunk> {
    this.calls++;
    request.signal?.addEventListener('abort', () => this.aborted++, { once: true });
    const { script } = this;
    if (script.kind === 'fail') throw new LlmError(script.error, `${this.name} failed`);
    if (script.kind === 'hang') await untilAborted(request.signal);
    if (script.kind === 'ok' || script.kind === 'fail-after' || script.kind === 'stall-after') {
      for (const word of script.words) {
        await Promise.resolve();
        yield { type: 'delta', text: word };
      }
      if (script.kind === 'fail-after') throw new LlmError(script.error, `${this.name} broke`);
      if (script.kind === 'stall-after') await untilAborted(request.signal);
    }
    yield { type: 'done', usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, finishReason: 'stop' };
  }
}

function chain(...ports: FakePort[]) {
  return new FallbackChain({ name: 'chat', providers: ports.map((port) => ({ port, firstTokenTimeoutMs: 50, idleTimeoutMs: 50 })) });
}

const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];

async function run(target: FallbackChain, request: Partial<ChatStreamRequest> = {}) {
  const served: ServedBy[] = [];
  const deltas: string[] = [];
  let done: ChatChunk | undefined;
  let error: unknown;
  try {
    for await (const chunk of target.stream({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 10, ...request }, (_name, info) => served.push(info))) {
      if (chunk.type === 'delta') deltas.push(chunk.text);
      else done = chunk;
    }
  } catch (caught) {
    error = caught;
  }
  return { served, text: deltas.join(''), done, error };
}

describe('FallbackChain', () => {
  it('serves from the first provider when it is healthy', async () => {
    const a = new FakePort('a', { kind: 'ok', words: ['x', 'y'] });
    const b = new FakePort('b', { kind: 'ok', words: ['z'] });
    const result = await run(chain(a, b));
    expect(result.text).toBe('xy');
    expect(result.done).toMatchObject({ type: 'done' });
    expect(result.served).toEqual([{ provider: 'a', model: 'fake', attempts: [{ provider: 'a', outcome: 'served' }] }]);
    expect(b.calls).toBe(0);
  });

  it('falls back when a provider errors before the first token', async () => {
    const a = new FakePort('a', { kind: 'fail', error: 'server_error' });
    const b = new FakePort('b', { kind: 'ok', words: ['z'] });
    const result = await run(chain(a, b));
    expect(result.text).toBe('z');
    expect(result.served[0]?.attempts).toEqual([
      { provider: 'a', outcome: 'failed', kind: 'server_error' },
      { provider: 'b', outcome: 'served' },
    ]);
  });

  it.each(['context_length', 'content_policy', 'auth', 'rate_limited'] as const)('falls back on %s too', async (kind) => {
    const result = await run(chain(new FakePort('a', { kind: 'fail', error: kind }), new FakePort('b', { kind: 'ok', words: ['z'] })));
    expect(result.served[0]?.provider).toBe('b');
  });

  it('abandons a provider that misses its first-token timeout and aborts its request', async () => {
    const a = new FakePort('a', { kind: 'hang' });
    const b = new FakePort('b', { kind: 'ok', words: ['z'] });
    const result = await run(chain(a, b));
    expect(result.text).toBe('z');
    expect(result.served[0]?.attempts[0]).toEqual({ provider: 'a', outcome: 'failed', kind: 'timeout' });
    expect(a.aborted).toBe(1);
  });

  it('does not fall back after the first delta was passed on', async () => {
    const a = new FakePort('a', { kind: 'fail-after', words: ['x', 'y'], error: 'network' });
    const b = new FakePort('b', { kind: 'ok', words: ['z'] });
    const result = await run(chain(a, b));
    expect(result.text).toBe('xy');
    expect(result.error).toBeInstanceOf(LlmError);
    expect(result.error).toMatchObject({ kind: 'network', attempts: [{ provider: 'a', outcome: 'failed', kind: 'network' }] });
    expect(b.calls).toBe(0);
  });

  it('fails a stream that stalls past the idle timeout after text started', async () => {
    const a = new FakePort('a', { kind: 'stall-after', words: ['x'] });
    const result = await run(chain(a, new FakePort('b', { kind: 'ok', words: ['z'] })));
    expect(result.text).toBe('x');
    expect(result.error).toMatchObject({ kind: 'timeout' });
    expect(a.aborted).toBe(1);
  });

  it('reports every attempt when all providers fail', async () => {
    const result = await run(chain(new FakePort('a', { kind: 'fail', error: 'server_error' }), new FakePort('b', { kind: 'fail', error: 'rate_limited' })));
    expect(result.error).toBeInstanceOf(LlmError);
    expect(result.error).toMatchObject({
      kind: 'rate_limited',
      attempts: [
        { provider: 'a', outcome: 'failed', kind: 'server_error' },
        { provider: 'b', outcome: 'failed', kind: 'rate_limited' },
      ],
    });
    expect((result.error as Error).message).toMatch(/all providers of model "chat" failed/);
  });

  it('stops on the caller abort with its reason and does not fall back', async () => {
    const a = new FakePort('a', { kind: 'hang' });
    const b = new FakePort('b', { kind: 'ok', words: ['z'] });
    const controller = new AbortController();
    const reason = new Error('client went away');
    const pending = run(chain(a, b), { signal: controller.signal });
    await Promise.resolve();
    controller.abort(reason);
    const result = await pending;
    expect(result.error).toBe(reason);
    expect(b.calls).toBe(0);
  });

  it('aborts the upstream when the consumer stops reading', async () => {
    const a = new FakePort('a', { kind: 'ok', words: ['x', 'y', 'z'] });
    for await (const chunk of chain(a).stream({ messages: [], maxTokens: 10 })) {
      expect(chunk).toEqual({ type: 'delta', text: 'x' });
      break;
    }
    expect(a.aborted).toBe(1);
  });

  it('does not abort a provider that finished normally', async () => {
    const a = new FakePort('a', { kind: 'ok', words: ['x'] });
    await run(chain(a));
    expect(a.aborted).toBe(0);
  });

  it('derives cooldowns from the error kind and Retry-After', () => {
    const target = new FallbackChain({ name: 'chat', providers: [{ port: new FakePort('a', { kind: 'hang' }), firstTokenTimeoutMs: 1 }], cooldownMs: { server_error: 5_000 }, maxCooldownMs: 60_000 });
    expect(target.cooldownFor(new LlmError('server_error', ''))).toBe(5_000);
    expect(target.cooldownFor(new LlmError('timeout', ''))).toBe(30_000);
    expect(target.cooldownFor(new LlmError('context_length', ''))).toBe(0);
    expect(target.cooldownFor(new LlmError('rate_limited', '', { retryAfterMs: 2_000 }))).toBe(2_000);
    expect(target.cooldownFor(new LlmError('rate_limited', '', { retryAfterMs: 3_600_000 }))).toBe(60_000);
    expect(target.cooldownFor(new LlmError('auth', ''))).toBe(60_000);
  });

  describe('requests that need forwarding', () => {
    it('forwards when some provider forwards', () => {
      expect(chain(new FakePort('a', { kind: 'ok', words: [] }, false), new FakePort('b', { kind: 'ok', words: [] })).forwards).toBe(true);
      expect(chain(new FakePort('a', { kind: 'ok', words: [] }, false)).forwards).toBe(false);
    });

    it('offers a request with tools only to providers that forward', async () => {
      const extractive = new FakePort('extractive', { kind: 'ok', words: ['quote'] }, false);
      const llm = new FakePort('llm', { kind: 'ok', words: ['call'] });
      const result = await run(chain(extractive, llm), { forward: { tools, tool_choice: 'auto' } });
      expect(result.text).toBe('call');
      expect(result.served[0]?.attempts).toEqual([{ provider: 'llm', outcome: 'served' }]);
      expect(extractive.calls).toBe(0);
    });

    it('counts tool turns in the conversation as using tools', async () => {
      const extractive = new FakePort('extractive', { kind: 'ok', words: ['quote'] }, false);
      const toolTurns = [
        { role: 'user' as const, content: 'weather?' },
        { role: 'assistant' as const, content: '', toolCalls: [{ id: 'c1', name: 'get_weather', arguments: '{}' }] },
        { role: 'tool' as const, content: 'sunny', toolCallId: 'c1' },
      ];
      const result = await run(chain(extractive), { messages: toolTurns });
      expect(result.error).toBeInstanceOf(UnsupportedRequestError);
      expect((result.error as Error).message).toBe("The model 'chat' cannot use tools");
      expect(extractive.calls).toBe(0);
    });

    it('refuses with UnsupportedRequestError naming the alias and what it cannot do, and cools nothing down', async () => {
      const cooledDown: string[] = [];
      const cooldowns = {
        remaining: async () => new Map<string, number>(),
        coolDown: async (provider: string, ms: number) => (cooledDown.push(provider), ms),
        clear: async () => undefined,
      } as unknown as CooldownStore;
      const extractive = new FakePort('extractive', { kind: 'ok', words: ['quote'] }, false);
      const other = new FakePort('other', { kind: 'ok', words: ['quote'] }, false);
      const target = new FallbackChain({ name: 'extractive', providers: [extractive, other].map((port) => ({ port, firstTokenTimeoutMs: 50 })), cooldowns });
      const result = await run(target, { forward: { response_format: { type: 'json_object' }, stop: ['\n'], logprobs: true } });
      expect(result.error).toBeInstanceOf(UnsupportedRequestError);
      expect(result.error).toMatchObject({
        message: "The model 'extractive' cannot produce structured output, honour stop or return logprobs",
        alias: 'extractive',
        param: 'response_format',
        needs: [
          { field: 'response_format', does: 'produce structured output' },
          { field: 'stop', does: 'honour stop' },
          { field: 'logprobs', does: 'return logprobs' },
        ],
      });
      expect(result.served).toEqual([]);
      expect(extractive.calls + other.calls).toBe(0);
      expect(cooledDown).toEqual([]);
    });

    it('offers a request with images only to providers with the images capability, falls back only among them, and refuses naming the capability when none has it', async () => {
      const seeing = [{ role: 'user' as const, content: 'What is this?', parts: [{ type: 'text' as const, text: 'What is this?' }, { type: 'image' as const, url: 'data:image/png;base64,iVBORw0KGgo=' }] }];
      const textOnly = new FakePort('text-only', { kind: 'ok', words: ['blind'] });
      const failing = new FakePort('vision-a', { kind: 'fail', error: 'server_error' }, true, true);
      const vision = new FakePort('vision-b', { kind: 'ok', words: ['a cat'] }, true, true);
      const target = chain(textOnly, failing, textOnly, vision);
      expect(target.images).toBe(true);
      const result = await run(target, { messages: seeing });
      expect(result.text).toBe('a cat');
      expect(result.served[0]?.attempts).toEqual([{ provider: 'vision-a', outcome: 'failed', kind: 'server_error' }, { provider: 'vision-b', outcome: 'served' }]);
      expect(textOnly.calls).toBe(0);

      const blind = new FallbackChain({ name: 'extractive', providers: [{ port: new FakePort('extractive', { kind: 'ok', words: [] }, false), firstTokenTimeoutMs: 50 }] });
      const refused = await run(blind, { messages: seeing });
      expect(refused.error).toMatchObject({ name: 'UnsupportedRequestError', message: "The model 'extractive' cannot read images (it lacks the 'images' capability)", param: 'messages' });
      expect(blind.refusal({ messages: seeing })?.message).toBe((refused.error as Error).message);
      expect(blind.refusal({ messages: [{ role: 'user', content: 'hi' }] })).toBeUndefined();
    });

    it('lets any provider serve fields at their defaults and ignorable hints', async () => {
      const extractive = new FakePort('extractive', { kind: 'ok', words: ['quote'] }, false);
      const forward = { tools: [], tool_choice: 'auto', parallel_tool_calls: true, response_format: { type: 'text' }, top_p: 1, presence_penalty: 0, logprobs: false, stop: null, logit_bias: {}, seed: 7, user: 'u-1' };
      const result = await run(chain(extractive), { forward });
      expect(result.error).toBeUndefined();
      expect(result.text).toBe('quote');
    });

    it('does not fall back to a provider that cannot forward when the ones that can fail', async () => {
      const llm = new FakePort('llm', { kind: 'fail', error: 'server_error' });
      const extractive = new FakePort('extractive', { kind: 'ok', words: ['quote'] }, false);
      const result = await run(chain(llm, extractive), { forward: { tools } });
      expect(result.error).toBeInstanceOf(LlmError);
      expect((result.error as LlmError).attempts).toEqual([{ provider: 'llm', outcome: 'failed', kind: 'server_error' }]);
      expect(extractive.calls).toBe(0);
    });
  });

  describe('weighted routing (A/B, canaries)', () => {
    const weighted = (options: { sticky?: boolean; random?: () => number }, ...entries: [FakePort, number | undefined][]) =>
      new FallbackChain({ name: 'chat', providers: entries.map(([port, weight]) => ({ port, firstTokenTimeoutMs: 50, ...(weight !== undefined ? { weight } : {}) })), ...options });

    it('sends each variant its share of first tries: 90/10 over a uniform draw', async () => {
      const a = new FakePort('a', { kind: 'ok', words: ['a'] });
      const b = new FakePort('b', { kind: 'ok', words: ['b'] });
      let i = 0;
      // 1,000 evenly spaced draws in [0, 1): the split is exact, no luck involved.
      const target = weighted({ random: () => (i++ % 1000) / 1000 }, [a, 90], [b, 10]);
      for (let n = 0; n < 1000; n++) await run(target);
      expect([a.calls, b.calls]).toEqual([900, 100]);
    });

    it('falls back from the drawn variant to the rest of the chain, in order', async () => {
      const a = new FakePort('a', { kind: 'ok', words: ['a'] });
      const b = new FakePort('b', { kind: 'fail', error: 'server_error' });
      const c = new FakePort('c', { kind: 'ok', words: ['c'] });
      // The draw lands on b (weights 1 and 1: 0.75 is in b's half).
      const result = await run(weighted({ random: () => 0.75 }, [a, 1], [b, 1], [c, undefined]));
      expect(result.text).toBe('a');
      expect(result.served[0]?.attempts).toEqual([{ provider: 'b', outcome: 'failed', kind: 'server_error' }, { provider: 'a', outcome: 'served' }]);
    });

    it('keeps a conversation on its variant when sticky, and spreads conversations by weight', async () => {
      const a = new FakePort('a', { kind: 'ok', words: ['a'] });
      const b = new FakePort('b', { kind: 'ok', words: ['b'] });
      const target = weighted({ sticky: true, random: () => { throw new Error('a sticky request with a key never draws'); } }, [a, 50], [b, 50]);
      const firstOf = async (key: string) => (await run(target, { routingKey: key })).text;
      const seen = new Map<string, string>();
      // Keys that differ only in their last characters, as session ids often do.
      for (let session = 0; session < 200; session++) seen.set(`acme/session-${session}`, await firstOf(`acme/session-${session}`));
      for (const [key, variant] of seen) expect(await firstOf(key)).toBe(variant);
      const onA = [...seen.values()].filter((variant) => variant === 'a').length;
      expect(onA).toBeGreaterThan(70);
      expect(onA).toBeLessThan(130);
      // Ten neighbouring ids do not all land on one side.
      const ten = await Promise.all(Array.from({ length: 10 }, (_, n) => firstOf(`acme/ab-session-${n}`)));
      expect(new Set(ten).size).toBe(2);
    });

    it('keeps the order when no provider has a weight, and never starts with a weightless one', async () => {
      const a = new FakePort('a', { kind: 'ok', words: ['a'] });
      const b = new FakePort('b', { kind: 'ok', words: ['b'] });
      expect((await run(weighted({ random: () => 0.99 }, [a, undefined], [b, undefined]))).text).toBe('a');
      expect((await run(weighted({ random: () => 0 }, [a, 0], [b, 5]))).text).toBe('b');
    });
  });
});
