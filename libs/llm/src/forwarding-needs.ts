import type { ChatMessage, ChatStreamRequest } from './chat-model.port.ts';
import type { ForwardingNeed } from './unsupported-request.error.ts';

/**
 * Forwarded fields a provider may ignore without the client noticing: hints about caching,
 * accounting, latency (a predicted output) or best-effort determinism (the providers that do not
 * forward are deterministic).
 */
const IGNORABLE = new Set(['seed', 'user', 'metadata', 'store', 'service_tier', 'prediction', 'prompt_cache_key', 'safety_identifier', 'parallel_tool_calls']);

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

/** OpenAI's default of a field, or anything that means "not used" (null is "unset" everywhere). */
function isDefault(field: string, value: unknown): boolean {
  if (isEmpty(value)) return true;
  switch (field) {
    case 'tool_choice':
      // Without tools (counted on their own) "auto" and "none" choose nothing.
      return value === 'auto' || value === 'none';
    case 'response_format':
      return (value as { type?: unknown }).type === 'text';
    case 'top_p':
    case 'n':
      return value === 1;
    case 'presence_penalty':
    case 'frequency_penalty':
    case 'top_logprobs':
      return value === 0;
    case 'logprobs':
      return value === false;
    default:
      return false;
  }
}

function describe(field: string): string {
  switch (field) {
    case 'tools':
    case 'tool_choice':
    case 'functions':
    case 'function_call':
      return 'use tools';
    case 'response_format':
      return 'produce structured output';
    case 'logprobs':
    case 'top_logprobs':
      return 'return logprobs';
    default:
      return `honour ${field}`;
  }
}

/**
 * What a request asks beyond plain text generation: forwarded fields whose value changes the
 * answer (anything but OpenAI's default, an empty value or an ignorable hint) and tool turns in
 * the conversation. Empty: any provider can serve it.
 */
export function forwardingNeeds(request: { messages: readonly Pick<ChatMessage, 'role' | 'toolCalls'>[]; forward?: ChatStreamRequest['forward'] }): ForwardingNeed[] {
  const needs: ForwardingNeed[] = [];
  for (const [field, value] of Object.entries(request.forward ?? {})) {
    if (IGNORABLE.has(field) || isDefault(field, value)) continue;
    needs.push({ field, does: describe(field) });
  }
  if (request.messages.some((message) => message.role === 'tool' || (message.toolCalls?.length ?? 0) > 0)) {
    needs.push({ field: 'messages', does: 'use tools' });
  }
  return needs;
}

/**
 * Whether a request has images (parts other than text), in the port's form or the contract's
 * (`ref` parts not yet redeemed): only providers with the `images` capability may get it.
 */
export function needsImages(messages: readonly { parts?: readonly { type: string }[] | undefined }[]): boolean {
  return messages.some((message) => message.parts?.some((part) => part.type !== 'text') ?? false);
}

/** The capabilities a request needs of a provider beyond forwarding. */
export function capabilityNeeds(messages: readonly { parts?: readonly { type: string }[] | undefined }[]): ForwardingNeed[] {
  return needsImages(messages) ? [{ field: 'messages', does: 'read images', capability: 'images' }] : [];
}
