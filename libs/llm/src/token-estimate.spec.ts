import { countWords, estimateTextTokens, estimateToolDefinitionTokens, estimateTokens, IMAGE_TOKENS, TOKENS_PER_MESSAGE } from './token-estimate.ts';

describe('estimateTokens', () => {
  it('counts ceil(chars / 4) plus framing per message', () => {
    expect(estimateTokens([{ content: 'abcd' }, { content: 'abcde' }])).toBe(1 + TOKENS_PER_MESSAGE + 2 + TOKENS_PER_MESSAGE);
    expect(estimateTokens([])).toBe(0);
    expect(estimateTokens([{ content: '' }])).toBe(TOKENS_PER_MESSAGE);
  });

  it('counts CJK characters one token each instead of a quarter', () => {
    expect(estimateTextTokens('退款需要多久')).toBe(6);
    expect(estimateTextTokens('ok 退款')).toBe(1 + 2);
  });

  it('is in the right range for English prose', () => {
    const text = 'The quick brown fox jumps over the lazy dog near the riverbank at dawn.';
    // 15 words ≈ 16 BPE tokens for this sentence; the estimate must not be wildly off.
    expect(estimateTextTokens(text)).toBeGreaterThanOrEqual(14);
    expect(estimateTextTokens(text)).toBeLessThanOrEqual(20);
  });
});

describe('tool calls and tool definitions', () => {
  it('counts the name and arguments of tool calls in assistant turns', () => {
    const call = { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' };
    expect(estimateTokens([{ content: '', toolCalls: [call] }])).toBe(estimateTextTokens('get_weather') + estimateTextTokens('{"city":"Paris"}') + TOKENS_PER_MESSAGE);
  });

  it('counts tool definitions as their JSON text, and nothing without tools', () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    expect(estimateToolDefinitionTokens({ tools })).toBe(estimateTextTokens(JSON.stringify(tools)));
    expect(estimateToolDefinitionTokens({ tools: [], seed: 1 })).toBe(0);
    expect(estimateToolDefinitionTokens(undefined)).toBe(0);
  });
});

describe('images', () => {
  it('count a fixed estimate each, beside the text of the message', () => {
    const parts = [{ type: 'text', text: 'abcd' }, { type: 'image' }, { type: 'image' }];
    expect(estimateTokens([{ content: 'abcd', parts }])).toBe(1 + 2 * IMAGE_TOKENS + TOKENS_PER_MESSAGE);
  });
});

describe('countWords', () => {
  it('counts whitespace-separated words', () => {
    expect(countWords('  Echo: hello\n there  ')).toBe(3);
    expect(countWords('')).toBe(0);
  });
});
