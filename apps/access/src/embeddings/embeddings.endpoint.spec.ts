import type { AdmitResult } from '@aip/rate-limit';
import type { ApiError } from '@aip/runtime';
import { Moderation } from '../moderation/moderation.service.ts';
import { base64Vector, EmbeddingsEndpoint, type EmbeddingModelLike } from './embeddings.endpoint.ts';

/** A stand-in model: a text's vector is [its length, its word count, 1]; tokens are words; it reads 6 tokens with [CLS] and [SEP]. */
function fakeModel(): EmbeddingModelLike & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    dimension: 3,
    embeddings: {
      maxTokens: 6,
      embedDocuments: async (texts) => (calls.push(texts), texts.map((text) => [text.length, text.split(' ').length, 1])),
      countTokens: async (text) => text.split(' ').length,
    },
  };
}

const caller = { id: 'key-1', tenantId: 'acme' };

/** The key's limits: admit everything (or refuse as told), recording what was reserved and settled. */
function fakeLimits(refusal?: Extract<AdmitResult, { admitted: false }>) {
  const reserved: { apiKeyId: string; model: string; tokens: number }[] = [];
  const settled: [string, number][] = [];
  return {
    reserved,
    settled,
    reserve: async (key: { apiKeyId: string }, model: string, requestId: string, tokens: number): Promise<AdmitResult> => {
      reserved.push({ apiKeyId: key.apiKeyId, model, tokens });
      return refusal ?? { admitted: true, reservationId: `r-${requestId}`, reservedTokens: tokens, standing: { tokens: { limit: 1_000, remaining: 1_000 - tokens, resetMs: 60_000 } } };
    },
    settle: async (reservationId: string, tokens: number) => void settled.push([reservationId, tokens]),
  };
}

function setup(options: { words?: string[]; input?: 'block' | 'mask'; load?: () => Promise<EmbeddingModelLike>; limits?: ReturnType<typeof fakeLimits> } = {}) {
  const model = fakeModel();
  const limits = options.limits ?? fakeLimits();
  const loadErrors: unknown[] = [];
  let loads = 0;
  const endpoint = new EmbeddingsEndpoint({
    alias: 'all-minilm-l6-v2',
    maxInputs: 4,
    moderation: new Moderation({ words: options.words ?? [], input: options.input ?? 'block' }),
    load: options.load ?? (async () => (loads++, model)),
    onLoadError: (error) => loadErrors.push(error),
    limits,
  });
  return { endpoint, model, limits, loadErrors, loads: () => loads };
}

/** The HTTP error a client gets: status, OpenAI code and param, message. */
async function refusal(promise: Promise<unknown>) {
  const error = (await promise.then(() => undefined, (caught: unknown) => caught)) as ApiError | undefined;
  if (!error) throw new Error('expected an HTTP error, the request succeeded');
  const { code, param, message } = error.getResponse().error;
  return { status: error.getStatus(), code, param, message };
}

describe('EmbeddingsEndpoint (POST /v1/embeddings)', () => {
  it("answers in OpenAI's shape: one vector per text in input order, the model's name, usage in tokens", async () => {
    const { endpoint, model } = setup();
    expect(await endpoint.create(caller, { model: 'all-minilm-l6-v2', input: ['one two', 'three'] })).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [7, 2, 1] },
        { object: 'embedding', index: 1, embedding: [5, 1, 1] },
      ],
      model: 'all-minilm-l6-v2',
      // Words plus [CLS] and [SEP] of each text.
      usage: { prompt_tokens: 7, total_tokens: 7 },
    });
    expect(await endpoint.create(caller, { model: 'all-minilm-l6-v2', input: 'just one', user: 'u-1' })).toMatchObject({ data: [{ index: 0, embedding: [8, 2, 1] }] });
    expect(model.calls).toEqual([['one two', 'three'], ['just one']]);
  });

  it('sends base64 little-endian float32 when asked (what the openai SDK asks for by default)', async () => {
    const { endpoint } = setup();
    const answer = await endpoint.create(caller, { model: 'all-minilm-l6-v2', input: 'a b c', encoding_format: 'base64' });
    const encoded = answer.data[0]!.embedding as string;
    expect(encoded).toBe(base64Vector([5, 3, 1]));
    expect([...new Float32Array(new Uint8Array(Buffer.from(encoded, 'base64')).buffer)]).toEqual([5, 3, 1]);
  });

  it('refuses what it cannot honour with a 400 naming the field, and calls no model', async () => {
    const { endpoint, model } = setup();
    const ask = (body: Record<string, unknown>) => refusal(endpoint.create(caller, { model: 'all-minilm-l6-v2', input: 'hello', ...body }));
    expect(await ask({ input: [101, 2023, 102] })).toMatchObject({ status: 400, code: 'unsupported_input', param: 'input' });
    expect(await ask({ input: [[101], [102]] })).toMatchObject({ status: 400, code: 'unsupported_input' });
    expect(await ask({ input: '' })).toMatchObject({ status: 400, param: 'input' });
    expect(await ask({ input: [] })).toMatchObject({ status: 400, param: 'input' });
    expect(await ask({ input: ['a', 'b', 'c', 'd', 'e'] })).toMatchObject({ status: 400, param: 'input', message: expect.stringContaining('at most 4') });
    expect(await ask({ encoding_format: 'int8' })).toMatchObject({ status: 400, param: 'encoding_format' });
    expect(await ask({ temperature: 1 })).toMatchObject({ status: 400 });
    expect(model.calls).toEqual([]);
    // Known only once the model is loaded: its vector length, and how much text it reads.
    expect(await ask({ dimensions: 2 })).toMatchObject({ status: 400, code: 'unsupported_dimensions', param: 'dimensions' });
    expect(await ask({ input: ['short', 'one two three four five'] })).toMatchObject({ status: 400, code: 'context_length_exceeded', message: expect.stringContaining('input[1] is 5 tokens') });
    expect(await endpoint.create(caller, { model: 'all-minilm-l6-v2', input: 'one two three four', dimensions: 3 })).toMatchObject({ data: [{ embedding: [18, 4, 1] }] });
    expect(model.calls).toEqual([['one two three four']]);
  });

  it("refuses another model (404) and a key that may not use this one (403)", async () => {
    const { endpoint } = setup();
    expect(await refusal(endpoint.create(caller, { model: 'text-embedding-3-small', input: 'x' }))).toMatchObject({ status: 404, code: 'model_not_found', message: expect.stringContaining("'all-minilm-l6-v2'") });
    expect(await refusal(endpoint.create({ ...caller, models: ['extractive'] }, { model: 'all-minilm-l6-v2', input: 'x' }))).toMatchObject({ status: 403, code: 'model_not_allowed' });
    expect(await endpoint.create({ ...caller, models: ['extractive', 'all-minilm-l6-v2'] }, { model: 'all-minilm-l6-v2', input: 'x' })).toMatchObject({ object: 'list' });
  });

  it('screens the texts like a chat request: refused with block, masked before embedding with mask', async () => {
    const blocked = setup({ words: ['forbidden'] });
    expect(await refusal(blocked.endpoint.create(caller, { model: 'all-minilm-l6-v2', input: ['fine', 'the Forbidden City'] }))).toMatchObject({ status: 400, code: 'content_policy_violation', param: 'input' });
    expect(blocked.model.calls).toEqual([]);
    const masked = setup({ words: ['forbidden'], input: 'mask' });
    await masked.endpoint.create(caller, { model: 'all-minilm-l6-v2', input: 'the Forbidden City' });
    expect(masked.model.calls).toEqual([['the ********* City']]);
  });

  it('loads the model once, on the first request; a load that fails is a 503 without its reason, and is tried again', async () => {
    const { endpoint, loads } = setup();
    expect(loads()).toBe(0);
    await Promise.all([endpoint.create(caller, { model: 'all-minilm-l6-v2', input: 'a' }), endpoint.create(caller, { model: 'all-minilm-l6-v2', input: 'b' })]);
    expect(loads()).toBe(1);

    let attempts = 0;
    const model = fakeModel();
    const flaky = setup({ load: async () => (++attempts === 1 ? Promise.reject(new Error('no model file at /secret/path')) : model) });
    const failed = await refusal(flaky.endpoint.create(caller, { model: 'all-minilm-l6-v2', input: 'a' }));
    expect(failed).toMatchObject({ status: 503, code: 'model_unavailable' });
    expect(failed.message).not.toContain('/secret/path');
    expect(flaky.loadErrors).toEqual([new Error('no model file at /secret/path')]);
    expect(await flaky.endpoint.create(caller, { model: 'all-minilm-l6-v2', input: 'a' })).toMatchObject({ object: 'list' });
    expect(attempts).toBe(2);
  });

  it("counts a request's tokens against the key's limits, says where they stand, and frees the slot once answered", async () => {
    const { endpoint, limits } = setup();
    const headers: Record<string, string>[] = [];
    await endpoint.create(caller, { model: 'all-minilm-l6-v2', input: ['one two', 'three'] }, (h) => headers.push(h));
    expect(limits.reserved).toEqual([{ apiKeyId: 'key-1', model: 'all-minilm-l6-v2', tokens: 7 }]);
    expect(limits.settled).toEqual([[expect.stringMatching(/^r-emb-/), 7]]);
    expect(headers).toEqual([{ 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '993', 'x-ratelimit-reset-tokens': '60s' }]);
  });

  it('refuses a request over the limits with 429, Retry-After and the bound limit, without running the model', async () => {
    const limits = fakeLimits({ admitted: false, reason: 'token_budget_exceeded', retryAfterMs: 12_300, limit: 5, remaining: 1 });
    const { endpoint, model } = setup({ limits });
    const error = (await endpoint.create(caller, { model: 'all-minilm-l6-v2', input: 'one two three' }).catch((caught: unknown) => caught)) as ApiError;
    expect(error.getStatus()).toBe(429);
    expect(error.getResponse().error).toMatchObject({ type: 'rate_limit_error', code: 'token_budget_exceeded' });
    expect(error.headers).toMatchObject({ 'retry-after': '13', 'x-ratelimit-limit-tokens': '5', 'x-ratelimit-remaining-tokens': '1' });
    expect(model.calls).toEqual([]);
    expect(limits.settled).toEqual([]);
  });
});
