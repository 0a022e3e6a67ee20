import type { Envelope } from '@aip/contracts';
import { PriceBook } from './price-book.ts';
import { costNanos, usageEntryOf } from './usage-entry.ts';

const routing = { models: { fast: { providers: [{ name: 'openai', kind: 'openai-compatible', model: 'gpt-x', price: { input: 2, output: 8, cached: 0.5 } }, { name: 'local', kind: 'openai-compatible', model: 'llama' }] } } };
const header = { id: 'ev-1', version: 1, source: 'inference', time: '2026-12-08T10:00:00.000Z', tenantId: 'acme', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };

describe('usage entries', () => {
  it('prices prompt, cached and completion tokens per million, in billionths of a dollar', () => {
    // 900 uncached × $2 + 100 cached × $0.5 + 50 × $8, per million tokens.
    expect(costNanos({ promptTokens: 1_000, completionTokens: 50, cachedTokens: 100 }, { input: 2, output: 8, cached: 0.5 })).toBe(2_250_000);
    expect(costNanos({ promptTokens: 10, completionTokens: 0, cachedTokens: 10 }, { input: 2, output: 8 })).toBe(20_000);
    expect(costNanos({ promptTokens: 10, completionTokens: 10, cachedTokens: 0 }, undefined)).toBe(0);
  });

  it('records a completed request with its provider model, cost, timings and trace id', () => {
    const event = { ...header, type: 'ai.inference.completed', data: { taskId: 't1', apiKeyId: 'k1', userId: 'u1', workerId: 'w1', model: 'fast', provider: 'openai', usage: { promptTokens: 1_000, completionTokens: 50, totalTokens: 1_050, cachedTokens: 100 }, timings: { queueMs: 3, firstTokenMs: 40, totalMs: 300 }, finishReason: 'stop' } } as Envelope<'ai.inference.completed'>;
    expect(usageEntryOf(event, new PriceBook(routing))).toMatchObject({ eventId: 'ev-1', tenantId: 'acme', keyId: 'k1', userId: 'u1', model: 'fast', provider: 'openai', providerModel: 'gpt-x', status: 'completed', costNanos: 2_250_000, firstTokenMs: 40, durationMs: 300, queueMs: 3, traceId: '0af7651916cd43dd8448eb211c80319c' });
  });

  it('records an unpriced provider at no cost, and a routing document replaces the start-up prices', () => {
    const event = { ...header, type: 'ai.inference.completed', data: { taskId: 't1', apiKeyId: 'k1', workerId: 'w1', model: 'fast', provider: 'local', usage: { promptTokens: 10, completionTokens: 10, totalTokens: 20 }, timings: { queueMs: 0, totalMs: 5 }, finishReason: 'stop' } } as Envelope<'ai.inference.completed'>;
    const prices = new PriceBook(routing);
    expect(usageEntryOf(event, prices)).toMatchObject({ providerModel: 'llama', costNanos: 0 });
    prices.applyRouting({ models: { fast: { providers: [{ name: 'local', model: 'llama-2', price: { input: 1, output: 1 } }] } } });
    expect(usageEntryOf(event, prices)).toMatchObject({ providerModel: 'llama-2', costNanos: 20_000 });
    prices.applyRouting(null);
    expect(usageEntryOf(event, prices)).toMatchObject({ providerModel: 'llama' });
  });

  it('records failures, cancellations and rejections with their class', () => {
    const prices = new PriceBook();
    const failed = { ...header, type: 'ai.inference.failed', data: { taskId: 't1', apiKeyId: 'k1', model: 'fast', error: { code: 'timeout', message: 'slow' } } } as Envelope<'ai.inference.failed'>;
    expect(usageEntryOf(failed, prices)).toMatchObject({ status: 'failed', errorClass: 'timeout', model: 'fast', costNanos: 0 });
    const rejected = { ...header, type: 'ai.request.rejected', data: { taskId: 't1', apiKeyId: 'k1', reason: 'rate_limited', message: 'later' } } as unknown as Envelope<'ai.request.rejected'>;
    expect(usageEntryOf(rejected, prices)).toMatchObject({ status: 'rejected', errorClass: 'rate_limited', model: null });
    const cancelled = { ...header, type: 'ai.inference.cancelled', data: { taskId: 't1', apiKeyId: 'k1', usage: { promptTokens: 5, completionTokens: 2, totalTokens: 7 } } } as Envelope<'ai.inference.cancelled'>;
    expect(usageEntryOf(cancelled, prices)).toMatchObject({ status: 'cancelled', errorClass: null, promptTokens: 5, completionTokens: 2 });
  });
});
