import { ContextOverflowError } from '@langchain/core/errors';
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { LlmError } from './llm.error.ts';
import { classifyLlmError, parseRetryAfter } from './llm-error.classifier.ts';

function apiError(status: number, body: { message: string; type?: string; code?: string | null }, headers: Record<string, string> = {}) {
  return APIError.generate(status, { error: { type: 'error', code: null, ...body } }, undefined, new Headers(headers));
}

describe('classifyLlmError', () => {
  it.each([
    [500, 'server_error', true],
    [502, 'server_error', true],
    [503, 'server_error', true],
    [504, 'timeout', true],
    [408, 'timeout', true],
    [401, 'auth', false],
    [403, 'auth', false],
    [400, 'bad_request', false],
    [404, 'bad_request', false],
    [422, 'bad_request', false],
  ] as const)('HTTP %i → %s', (status, kind, retryable) => {
    const error = classifyLlmError(apiError(status, { message: 'upstream says no' }), 'p1');
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ kind, retryable, status, provider: 'p1' });
    expect(error.message).toContain('p1: ');
  });

  it('429 is rate_limited and carries Retry-After (seconds) in ms', () => {
    const error = classifyLlmError(apiError(429, { message: 'slow down', code: 'rate_limit_exceeded' }, { 'retry-after': '7' }));
    expect(error).toMatchObject({ kind: 'rate_limited', retryable: true, retryAfterMs: 7000 });
  });

  it('prefers retry-after-ms over Retry-After', () => {
    const error = classifyLlmError(apiError(429, { message: 'slow down' }, { 'retry-after': '7', 'retry-after-ms': '1500' }));
    expect(error.retryAfterMs).toBe(1500);
  });

  it('429 insufficient_quota is an auth problem, not a transient limit', () => {
    expect(classifyLlmError(apiError(429, { message: 'You exceeded your current quota', code: 'insufficient_quota' })).kind).toBe('auth');
  });

  it('context_length_exceeded is context_length, also when LangChain wraps it', () => {
    const raw = apiError(400, { message: "This model's maximum context length is 8192 tokens.", code: 'context_length_exceeded' });
    expect(classifyLlmError(raw).kind).toBe('context_length');
    expect(classifyLlmError(ContextOverflowError.fromError(raw)).kind).toBe('context_length');
    expect(classifyLlmError(apiError(400, { message: "This model's maximum context length is 4096 tokens" })).kind).toBe('context_length');
  });

  it('content filter refusals are content_policy', () => {
    expect(classifyLlmError(apiError(400, { message: 'filtered', code: 'content_filter' })).kind).toBe('content_policy');
    expect(classifyLlmError(apiError(400, { message: 'Input data may contain inappropriate content.', code: 'data_inspection_failed' })).kind).toBe('content_policy');
  });

  it('connection failures are network, client timeouts are timeout', () => {
    expect(classifyLlmError(new APIConnectionError({ message: 'Connection error.', cause: new TypeError('fetch failed') }))).toMatchObject({ kind: 'network', retryable: true });
    expect(classifyLlmError(new TypeError('terminated')).kind).toBe('network');
    expect(classifyLlmError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })).kind).toBe('network');
    expect(classifyLlmError(new APIConnectionTimeoutError()).kind).toBe('timeout');
    const langchainTimeout = Object.assign(new Error('Request timed out.'), { name: 'TimeoutError' });
    expect(classifyLlmError(langchainTimeout).kind).toBe('timeout');
  });

  it('keeps an LlmError as it is', () => {
    const error = new LlmError('auth', 'bad key');
    expect(classifyLlmError(error, 'p')).toBe(error);
    expect(error.provider).toBe('p');
  });

  it('keeps the original error as cause', () => {
    const raw = apiError(500, { message: 'boom' });
    expect(classifyLlmError(raw).cause).toBe(raw);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds, HTTP dates and plain header records', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(parseRetryAfter(new Headers({ 'retry-after': '0.5' }))).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }), now)).toBe(30_000);
    expect(parseRetryAfter({ 'retry-after': '3' })).toBe(3000);
    expect(parseRetryAfter(new Headers())).toBeUndefined();
    expect(parseRetryAfter(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
  });
});
