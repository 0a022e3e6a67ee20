/**
 * What the mock answers, deterministically, from the request body (the same rules with and without
 * stream); pure functions, no I/O:
 *   last message is `tool`   text "Tool said: <content>" (several trailing tool messages: their contents
 *                            joined by "; "), finish_reason "stop"
 *   `tools`, last message    tool calls, finish_reason "tool_calls": to the tools named in the last user
 *   from the user            message (in the order named), else the first tool; `tool_choice`
 *                            {type:'function', function:{name}} forces that one, "none" answers text;
 *                            `parallel_tool_calls: false` keeps one call. Arguments: a JSON object built
 *                            from the tool's JSON-schema `parameters` (see schemaInstance). How they are
 *                            streamed: frames.ts.
 *   response_format          json_object: {"answer":"<last user message>"}; json_schema: an instance of
 *                            `json_schema.schema` built by schemaInstance
 *   otherwise                the text reply: the behaviour's `reply`, else "Echo: <last user message>"
 *                            repeated to replyTokens words; when the last user message has image parts
 *                            it starts "I see <n> image(s) (<media type of each data: URI, or url>)."
 *                            so a test can tell the images reached the provider
 * `logprobs: true` adds a logprobs entry per word (logprob 0, `top_logprobs` alternatives).
 *
 * Tokens are whitespace-separated words, for the prompt (all message contents) and the completion.
 */
import type { ChatCompletionRequest, JsonSchema, MockLlmBehaviour } from './types.ts';

/** A tool call the mock decided to make; `arguments` is JSON text. */
export interface MockToolCall {
  id: string;
  name: string;
  arguments: string;
}

export function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word.length > 0);
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  // Content parts ([{ type: 'text', text }]) as sent by some clients.
  if (Array.isArray(content)) {
    return content.map((part: unknown) => (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join(' ');
  }
  return '';
}

/** The images among content parts: each data: URI's media type, or "url" for a link. */
export function imagesOf(content: unknown): string[] {
  if (!Array.isArray(content)) return [];
  return content.flatMap((part: unknown) => {
    const url = typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'image_url' ? (part as { image_url?: { url?: unknown } }).image_url?.url : undefined;
    if (typeof url !== 'string') return [];
    return [/^data:([^;,]+)/.exec(url)?.[1] ?? 'url'];
  });
}

function replyWords(behaviour: MockLlmBehaviour, request: ChatCompletionRequest): string[] {
  if (behaviour.reply !== undefined) return words(behaviour.reply);
  const messages = request.messages ?? [];
  const lastUser = [...messages].reverse().find((message) => message.role === 'user');
  const images = imagesOf(lastUser?.content);
  const seen = images.length > 0 ? `I see ${images.length} image(s) (${images.join(', ')}). ` : '';
  const base = words(`${seen}Echo: ${contentText(lastUser?.content)}`);
  const out: string[] = [];
  for (let i = 0; out.length < behaviour.replyTokens; i++) out.push(base[i % base.length] ?? 'Echo:');
  return out;
}

/** The last word of `text` that is not a tool name, stripped of punctuation; "x" when there is none. */
function pickWord(text: string, toolNames: readonly string[]): string {
  const candidates = words(text)
    .map((word) => word.replace(/^[^\p{L}\p{N}_]+|[^\p{L}\p{N}_]+$/gu, ''))
    .filter((word) => word.length > 0 && !toolNames.includes(word));
  return candidates[candidates.length - 1] ?? 'x';
}

/**
 * A JSON value valid for a (simple) JSON schema: required properties only, strings `word`, numbers
 * 0, booleans false, null, arrays of minItems items (else empty), the first enum value or const,
 * the first anyOf/oneOf branch.
 */
export function schemaInstance(schema: JsonSchema | undefined, word: string): unknown {
  if (!schema || typeof schema !== 'object') return {};
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const branch = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (branch) return schemaInstance(branch, word);
  const types = Array.isArray(schema.type) ? schema.type : schema.type !== undefined ? [schema.type] : [];
  const type = types.find((candidate) => candidate !== 'null') ?? types[0] ?? (schema.properties ? 'object' : schema.items ? 'array' : 'object');
  switch (type) {
    case 'string':
      return word;
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array':
      return Array.from({ length: Math.max(0, schema.minItems ?? 0) }, () => schemaInstance(schema.items, word));
    default: {
      const value: Record<string, unknown> = {};
      for (const key of schema.required ?? []) value[key] = schemaInstance(schema.properties?.[key], word);
      return value;
    }
  }
}

function lastUserText(request: ChatCompletionRequest): string {
  const lastUser = [...(request.messages ?? [])].reverse().find((message) => message.role === 'user');
  return contentText(lastUser?.content);
}

/** The tool calls a request gets (see the header), or none when it should be answered with text. */
export function toolCallsFor(request: ChatCompletionRequest, idPrefix: string): MockToolCall[] {
  const tools = (request.tools ?? []).filter((tool) => typeof tool.function?.name === 'string');
  const last = request.messages?.[request.messages.length - 1];
  if (tools.length === 0 || last?.role !== 'user' || request.tool_choice === 'none') return [];
  const text = contentText(last.content);
  const names = tools.map((tool) => tool.function?.name ?? '');
  const forced = (request.tool_choice as { function?: { name?: unknown } } | undefined)?.function?.name;
  let chosen = typeof forced === 'string' ? tools.filter((tool) => tool.function?.name === forced) : [];
  if (chosen.length === 0) {
    chosen = tools.filter((tool) => text.includes(tool.function?.name ?? '')).sort((a, b) => text.indexOf(a.function?.name ?? '') - text.indexOf(b.function?.name ?? ''));
  }
  if (chosen.length === 0) chosen = tools.slice(0, 1);
  if (request.parallel_tool_calls === false) chosen = chosen.slice(0, 1);
  const word = pickWord(text, names);
  return chosen.map((tool, index) => ({
    id: `${idPrefix}_${index}`,
    name: tool.function?.name ?? '',
    arguments: JSON.stringify(schemaInstance(tool.function?.parameters ?? { type: 'object' }, word)),
  }));
}

/** The text answer: tool results, structured output, or the configured / echo reply. */
export function answerWords(behaviour: MockLlmBehaviour, request: ChatCompletionRequest): string[] {
  const messages = request.messages ?? [];
  const trailingTools: string[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]?.role === 'tool'; i--) trailingTools.unshift(contentText(messages[i]?.content));
  if (trailingTools.length > 0) return words(`Tool said: ${trailingTools.join('; ')}`);
  const format = request.response_format?.type;
  if (format === 'json_object') return words(JSON.stringify({ answer: lastUserText(request) }));
  if (format === 'json_schema') return words(JSON.stringify(schemaInstance(request.response_format?.json_schema?.schema, pickWord(lastUserText(request), []))));
  return replyWords(behaviour, request);
}

/** A simple logprobs entry for one emitted token: logprob 0, `top` alternatives. */
export function logprobOf(token: string, top: number) {
  const bytes = (text: string) => [...Buffer.from(text, 'utf8')];
  return {
    token,
    logprob: 0,
    bytes: bytes(token),
    top_logprobs: Array.from({ length: Math.max(0, top) }, (_, k) => {
      const alternative = k === 0 ? token : `alt${k}`;
      return { token: alternative, logprob: -k, bytes: bytes(alternative) };
    }),
  };
}

export function promptTokens(request: ChatCompletionRequest): number {
  return (request.messages ?? []).reduce((sum, message) => sum + words(contentText(message.content)).length, 0);
}
