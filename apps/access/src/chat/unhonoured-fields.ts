import { forwardedFields } from './chat-request.schema.ts';

/**
 * What a chat request asks for that the platform does not carry out. Nothing is dropped without a
 * word (a client that sends `tools` and gets plain text back has no way to know why): a field of
 * OpenAI's Chat Completions API the platform does not honour yet is accepted only with the value
 * that changes nothing, and refused with a 400 naming it otherwise; a field OpenAI does not define
 * is refused as OpenAI refuses it. Fields the request schema reads are not listed here.
 */
export interface Unhonoured {
  /** The field, as a path (`tools`, `messages[2].tool_calls`, `messages[0].content[1]`). */
  param: string;
  code: 'unsupported_parameter' | 'unknown_parameter' | 'unsupported_content';
  message: string;
}

const empty = (value: unknown) => value === null || (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);

/** OpenAI's fields the platform does not carry out yet, each with the values that change nothing. */
const NO_OP: Record<string, (value: unknown) => boolean> = {
  functions: empty,
  function_call: (value) => value === null || value === 'none' || value === 'auto',
  modalities: (value) => value === null || (Array.isArray(value) && value.every((modality) => modality === 'text')),
  audio: (value) => value === null,
  web_search_options: (value) => value === null,
  verbosity: (value) => value === null,
  // Hints for the provider's own caching and abuse detection: the answer is the same without them.
  prompt_cache_key: () => true,
  prompt_cache_retention: () => true,
  safety_identifier: () => true,
};

/** Fields of a message the platform does not carry out yet, with the values that change nothing. */
const MESSAGE_NO_OP: Record<string, (value: unknown) => boolean> = {
  function_call: (value) => value === null,
  refusal: (value) => value === null,
  audio: (value) => value === null,
};

/** Every top-level field the request schema reads (chat-request.schema.ts). */
const READ = new Set(['model', 'messages', 'n', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'user', 'session_id', 'priority', 'knowledge_bases', ...Object.keys(forwardedFields)]);
const MESSAGE_READ = new Set(['role', 'content', 'name', 'tool_calls', 'tool_call_id']);

const notYet = (param: string): Unhonoured => ({ param, code: 'unsupported_parameter', message: `'${param}' is not supported by this platform yet; leave it out (or send its default).` });

/** The first thing in `body` the platform would not honour, if any. */
export function unhonouredField(body: Record<string, unknown>): Unhonoured | undefined {
  for (const [field, value] of Object.entries(body)) {
    if (READ.has(field)) continue;
    // Own properties only: `hasOwnProperty`, `toString`... of Object.prototype are not fields (found by the fuzz suite: a 500).
    const noOp = Object.hasOwn(NO_OP, field) ? NO_OP[field] : undefined;
    if (!noOp) return { param: field, code: 'unknown_parameter', message: `Unrecognized request argument supplied: ${field}` };
    if (value !== undefined && !noOp(value)) return notYet(field);
  }
  const messages = Array.isArray(body['messages']) ? (body['messages'] as unknown[]) : [];
  for (const [index, message] of messages.entries()) {
    if (typeof message !== 'object' || message === null) continue; // the schema says what is wrong with it
    const { role, content } = message as Record<string, unknown>;
    if (role === 'function') return { param: `messages[${index}].role`, code: 'unsupported_parameter', message: "'function' messages are OpenAI's deprecated form of tool calls: send 'tool' messages with tool_call_id." };
    for (const [field, value] of Object.entries(message)) {
      if (MESSAGE_READ.has(field)) continue;
      const noOp = Object.hasOwn(MESSAGE_NO_OP, field) ? MESSAGE_NO_OP[field] : undefined;
      const param = `messages[${index}].${field}`;
      if (!noOp) return { param, code: 'unknown_parameter', message: `Unrecognized request argument supplied: ${param}` };
      if (value !== undefined && !noOp(value)) return notYet(param);
    }
    if (!Array.isArray(content)) continue;
    for (const [part, item] of content.entries()) {
      const type = typeof item === 'object' && item !== null ? (item as { type?: unknown }).type : undefined;
      if (type !== undefined && type !== 'text' && type !== 'image_url') {
        return { param: `messages[${index}].content[${part}]`, code: 'unsupported_content', message: `Content parts of type '${String(type)}' are not supported by this platform yet; send text and image_url parts only.` };
      }
    }
  }
  return undefined;
}
