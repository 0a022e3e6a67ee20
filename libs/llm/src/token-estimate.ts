/**
 * Token estimates without a tokenizer. Used to reserve budget before a request runs (the real
 * usage reconciles afterwards) and as the fallback when an upstream reports no usage, so they err
 * on the high side rather than the low one.
 *
 * Rule: Latin-script text averages about 4 characters per token for OpenAI-style BPE tokenizers,
 * so those characters count 1/4 each; CJK, kana, Hangul and other wide scripts are close to one
 * token per character (often more), so those count 1 each. Each message adds 4 tokens of framing
 * (role and separators, as in OpenAI's own counting guide).
 */
export const TOKENS_PER_MESSAGE = 4;

/** From U+2E80 (CJK radicals) upwards: CJK, kana, Hangul, and the rarer scripts above them. */
function isWide(codePoint: number): boolean {
  return codePoint >= 0x2e80;
}

export function estimateTextTokens(text: string): number {
  let narrow = 0;
  let wide = 0;
  for (const char of text) {
    if (isWide(char.codePointAt(0) ?? 0)) wide++;
    else narrow++;
  }
  return Math.ceil(narrow / 4) + wide;
}

/** What a tool call costs: its name and its arguments text, as the model wrote them. */
export function estimateToolCallTokens(toolCalls: readonly { name: string; arguments: string }[]): number {
  let total = 0;
  for (const call of toolCalls) total += estimateTextTokens(call.name) + estimateTextTokens(call.arguments);
  return total;
}

/**
 * What one image counts, whatever its size. Its real cost depends on its pixel dimensions and the
 * provider (OpenAI: 85 tokens at low detail, 170 per 512-px tile plus 85 at high), and reading
 * dimensions would mean decoding every image at the edge; 765 is OpenAI's figure for a 1024×1024
 * image at high detail, above most real images. The provider's reported usage settles the bill.
 */
export const IMAGE_TOKENS = 765;

/**
 * ceil(narrow chars / 4) + wide chars + 4 per message, tool calls of assistant turns included,
 * IMAGE_TOKENS per image part (the text parts are in `content`).
 */
export function estimateTokens(messages: readonly { content: string; toolCalls?: readonly { name: string; arguments: string }[] | undefined; parts?: readonly { type: string }[] | undefined }[]): number {
  let total = 0;
  for (const message of messages) {
    const images = message.parts?.filter((part) => part.type !== 'text').length ?? 0;
    total += estimateTextTokens(message.content) + estimateToolCallTokens(message.toolCalls ?? []) + images * IMAGE_TOKENS + TOKENS_PER_MESSAGE;
  }
  return total;
}

/**
 * Tool definitions (OpenAI's `tools`, or the legacy `functions`) count as prompt text: the
 * upstream renders them into the prompt. Counted as their JSON text.
 */
export function estimateToolDefinitionTokens(forward: Readonly<Record<string, unknown>> | undefined): number {
  let total = 0;
  for (const field of ['tools', 'functions']) {
    const value = forward?.[field];
    if (Array.isArray(value) && value.length > 0) total += estimateTextTokens(JSON.stringify(value));
  }
  return total;
}

/** Whitespace-separated words: the token unit of the extractive responder and the mock upstream. */
export function countWords(text: string): number {
  return text.match(/\S+/g)?.length ?? 0;
}
