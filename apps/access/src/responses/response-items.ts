import type { InputItem, ResponseRequest } from './response-request.schema.ts';

// The Responses API on the platform's task model: a response is a chat request built from the
// stored conversation and the new input (so it works for every model the routing serves), and its
// answer turned back into output items. Pure functions; the controller does the I/O.

/** A chat message as `POST /v1/chat/completions` takes it: what the conversation is stored as. */
export type ChatWireMessage = Record<string, unknown> & { role: string };

/** An answer's tool call, in chat's shape. */
export interface AnsweredCall {
  id: string;
  name: string;
  arguments: string;
}

/** The chat messages of a request's input, in order (consecutive function calls make one assistant turn). */
export function messagesOf(input: ResponseRequest['input']): ChatWireMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const messages: ChatWireMessage[] = [];
  for (const item of input) {
    if (item.type === 'function_call') {
      const call = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
      const last = messages.at(-1);
      if (last?.role === 'assistant' && Array.isArray(last['tool_calls'])) (last['tool_calls'] as unknown[]).push(call);
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (item.type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: item.output });
    } else {
      messages.push({ role: item.role, content: contentOf(item) });
    }
  }
  return messages;
}

function contentOf(item: Extract<InputItem, { role: string }>): string | Record<string, unknown>[] {
  if (typeof item.content === 'string') return item.content;
  return item.content.map((part) => (part.type === 'input_image' ? { type: 'image_url', image_url: { url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) } } : { type: 'text', text: part.text }));
}

/**
 * The chat request of a response: the instructions (this request's only: OpenAI does not carry
 * them over a chain), the conversation so far, the new input, and the fields translated to chat's.
 */
export function chatBodyOf(request: ResponseRequest, history: readonly ChatWireMessage[], context: { user?: string | undefined; conversationId?: string | undefined } = {}): Record<string, unknown> {
  const format = request.text?.format;
  const choice = request.tool_choice;
  const body: Record<string, unknown> = {
    model: request.model,
    messages: [...(request.instructions ? [{ role: 'system', content: request.instructions }] : []), ...history, ...messagesOf(request.input)],
    stream: request.stream ?? false,
    ...(request.tools?.length ? { tools: request.tools.map(({ type, ...fn }) => ({ type, function: withoutNulls(fn) })) } : {}),
    ...(choice !== undefined ? { tool_choice: typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } } } : {}),
    ...(request.parallel_tool_calls != null ? { parallel_tool_calls: request.parallel_tool_calls } : {}),
    ...(format && format.type !== 'text' ? { response_format: format.type === 'json_object' ? format : { type: 'json_schema', json_schema: withoutNulls({ name: format.name, schema: format.schema, description: format.description, strict: format.strict }) } } : {}),
    ...(request.max_output_tokens != null ? { max_completion_tokens: request.max_output_tokens } : {}),
    ...(request.temperature != null ? { temperature: request.temperature } : {}),
    ...(request.top_p != null ? { top_p: request.top_p } : {}),
    ...(request.metadata ? { metadata: request.metadata } : {}),
    ...(request.reasoning?.effort ? { reasoning_effort: request.reasoning.effort } : {}),
  };
  const user = context.user ?? request.safety_identifier ?? request.user;
  if (user) body['user'] = user;
  // A conversation is a session: the worker reads its items into the prompt and adds this exchange.
  if (context.conversationId) body['session_id'] = context.conversationId;
  return body;
}

const withoutNulls = (value: Record<string, unknown>) => Object.fromEntries(Object.entries(value).filter(([, field]) => field !== null && field !== undefined));

/** The output items of an answer: its message (when it has text) and its function calls. */
export function outputItemsOf(responseId: string, text: string, calls: readonly AnsweredCall[]): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  if (text !== '' || calls.length === 0) items.push(messageItem(responseId, text, 'completed'));
  for (const call of calls) items.push(functionCallItem(call, 'completed'));
  return items;
}

export const messageItem = (responseId: string, text: string, status: 'in_progress' | 'completed') => ({
  type: 'message',
  id: `msg_${responseId.replace(/^resp_/, '')}`,
  status,
  role: 'assistant',
  content: status === 'completed' ? [{ type: 'output_text', text, annotations: [] }] : [],
});

export const functionCallItem = (call: AnsweredCall, status: 'in_progress' | 'completed') => ({
  type: 'function_call',
  id: `fc_${call.id}`,
  call_id: call.id,
  name: call.name,
  arguments: status === 'completed' ? call.arguments : '',
  status,
});

/** The conversation after an answer, for `previous_response_id`: the answer as an assistant turn. */
export function answerMessage(text: string, calls: readonly AnsweredCall[]): ChatWireMessage {
  return calls.length > 0
    ? { role: 'assistant', content: text === '' ? null : text, tool_calls: calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })) }
    : { role: 'assistant', content: text };
}

/** How an answer that finished ended: `incomplete` (cut by max_output_tokens or the content filter) or `completed`. */
export function endingOf(finishReason: string | undefined): { status: 'completed' | 'incomplete'; incomplete_details?: { reason: string } } {
  if (finishReason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finishReason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed' };
}

/** Usage in the Responses API's names. */
export function responseUsage(usage: { promptTokens: number; completionTokens: number; totalTokens: number; cachedTokens?: number | undefined; reasoningTokens?: number | undefined }) {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.totalTokens,
  };
}
