import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ChatChunk, ChatMessage, ChatModelPort, ChatStreamRequest, FinishReason, Passage, TokenUsage } from './chat-model.port.ts';
import { LlmError } from './llm.error.ts';
import { classifyLlmError } from './llm-error.classifier.ts';
import { estimateTextTokens, estimateToolCallTokens, estimateToolDefinitionTokens, estimateTokens } from './token-estimate.ts';

export interface OpenAICompatibleOptions {
  /** Provider name, unique in the cluster (cooldowns are keyed by it). */
  name: string;
  /** Base URL including the version path, e.g. https://api.openai.com/v1 or http://ollama:11434/v1 */
  baseUrl: string;
  model: string;
  /** Local servers (Ollama, vLLM) often need none; a placeholder is sent then. */
  apiKey?: string;
  /** Extra headers for every request (e.g. OpenRouter's HTTP-Referer). */
  headers?: Record<string, string>;
  /** Whole-request limit of the HTTP client. First-token and idle timeouts belong to the FallbackChain. */
  requestTimeoutMs?: number;
  /** The model reads image parts (the routing document's `capabilities: ["images"]`). */
  images?: boolean;
}

/**
 * Request fields the port itself decides (`maxTokens`, `temperature`, the messages, streaming with
 * usage, one choice): a forwarded value for them is dropped, so every provider of a chain sees the
 * same request and the stream stays parseable.
 */
export const PORT_OWNED_FIELDS: ReadonlySet<string> = new Set(['model', 'messages', 'stream', 'n', 'max_tokens', 'max_completion_tokens', 'temperature']);

/** OpenAI's reasoning models refuse `max_tokens` and want `max_completion_tokens` (the rule LangChain's ChatOpenAI applied before ADR 0023). */
function isReasoningModel(model: string): boolean {
  return /^o\d/.test(model) || (model.startsWith('gpt-5') && !model.startsWith('gpt-5-chat')) || (model.startsWith('gpt-6') && !model.startsWith('gpt-6-chat'));
}

function passagesPrompt(passages: readonly Passage[]): string {
  const lines = passages.map((passage, index) => {
    const { docId, version, position } = passage.source;
    const where = [`doc ${docId}`, version !== undefined ? `version ${version}` : '', position !== undefined ? `position ${position}` : ''].filter(Boolean).join(', ');
    return `[${index + 1}] (${where}) ${passage.text}`;
  });
  return `Answer from the numbered passages below when they are relevant and cite them as [n]. If they do not contain the answer, say so.\n\n${lines.join('\n\n')}`;
}

/** Port messages as OpenAI messages; tool-call arguments go out as the very text the model wrote. */
function toOpenAI(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content, ...(message.name ? { name: message.name } : {}) };
    case 'user': {
      // Images go as OpenAI's content parts, in the order the client sent them.
      const content = message.parts
        ? message.parts.map((part) => (part.type === 'text' ? { type: 'text' as const, text: part.text } : { type: 'image_url' as const, image_url: { url: part.url, ...(part.detail ? { detail: part.detail } : {}) } }))
        : message.content;
      return { role: 'user', content, ...(message.name ? { name: message.name } : {}) };
    }
    case 'tool':
      return { role: 'tool', content: message.content, tool_call_id: message.toolCallId ?? '' };
    case 'assistant': {
      const calls = message.toolCalls ?? [];
      if (calls.length === 0) return { role: 'assistant', content: message.content, ...(message.name ? { name: message.name } : {}) };
      return {
        role: 'assistant',
        // OpenAI's own clients send null beside tool calls; some servers refuse "" there.
        content: message.content.length > 0 ? message.content : null,
        tool_calls: calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
      };
    }
  }
}

function finishReasonOf(value: unknown, calledTools: boolean): FinishReason | undefined {
  if (value === 'tool_calls' || value === 'function_call') return 'tool_calls';
  // Some servers (older Ollama, some vLLM parsers) end a tool-calling answer with "stop"; clients
  // decide on finish_reason whether to run tools, so it must say so.
  if (value === 'stop') return calledTools ? 'tool_calls' : 'stop';
  if (value === 'length' || value === 'content_filter') return value;
  // eos and other server-specific reasons: the answer is complete.
  return typeof value === 'string' && value.length > 0 ? (calledTools ? 'tool_calls' : 'stop') : undefined;
}

/**
 * Any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, DashScope, ...) through the `openai`
 * SDK (ADR 0023: the request goes out as the client wrote it, tools and structured output
 * included). It makes exactly one upstream call per stream: retries and fallback belong to the
 * FallbackChain, which needs to see every failure to cool the provider down.
 */
export class OpenAICompatibleAdapter implements ChatModelPort {
  readonly name: string;
  readonly model: string;
  readonly forwards = true;
  readonly images: boolean;
  private readonly client: OpenAI;

  constructor(options: OpenAICompatibleOptions) {
    this.name = options.name;
    this.model = options.model;
    this.images = options.images ?? false;
    this.client = new OpenAI({
      baseURL: options.baseUrl,
      // An explicit key also stops the SDK from reading OPENAI_API_KEY from the environment.
      apiKey: options.apiKey ?? 'not-needed',
      maxRetries: 0,
      ...(options.headers ? { defaultHeaders: options.headers } : {}),
      ...(options.requestTimeoutMs !== undefined ? { timeout: options.requestTimeoutMs } : {}),
    });
  }

  /** The exact request body sent upstream: forwarded fields verbatim, then the fields the port owns. */
  private body(request: ChatStreamRequest): ChatCompletionCreateParamsStreaming {
    const forwarded: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(request.forward ?? {})) {
      if (!PORT_OWNED_FIELDS.has(field) && value !== undefined) forwarded[field] = value;
    }
    const streamOptions = typeof forwarded['stream_options'] === 'object' && forwarded['stream_options'] !== null ? forwarded['stream_options'] : {};
    const messages: ChatCompletionMessageParam[] = request.passages?.length ? [{ role: 'system', content: passagesPrompt(request.passages) }] : [];
    for (const message of request.messages) messages.push(toOpenAI(message));
    return {
      ...forwarded,
      model: this.model,
      messages,
      stream: true,
      // Usage is what bills and rate-limits the request: always asked for.
      stream_options: { ...streamOptions, include_usage: true },
      ...(isReasoningModel(this.model) ? { max_completion_tokens: request.maxTokens } : { max_tokens: request.maxTokens }),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    };
  }

  async *stream(request: ChatStreamRequest): AsyncGenerator<ChatChunk> {
    const { signal } = request;
    let usage: TokenUsage | undefined;
    let finishReason: FinishReason | undefined;
    let completionText = '';
    let systemFingerprint: string | undefined;
    let refusal = '';
    // Per call index: what was passed on, so id and name go out once even from servers that repeat them.
    const calls: { id: string | undefined; name: string | undefined; arguments: string }[] = [];
    try {
      const stream = await this.client.chat.completions.create(this.body(request), signal ? { signal } : {});
      for await (const data of stream as AsyncIterable<ChatCompletionChunk>) {
        if (data.usage) {
          const cached = data.usage.prompt_tokens_details?.cached_tokens;
          const reasoning = data.usage.completion_tokens_details?.reasoning_tokens;
          usage = {
            promptTokens: data.usage.prompt_tokens,
            completionTokens: data.usage.completion_tokens,
            totalTokens: data.usage.total_tokens,
            ...(typeof cached === 'number' ? { cachedTokens: cached } : {}),
            ...(typeof reasoning === 'number' ? { reasoningTokens: reasoning } : {}),
          };
        }
        if (data.system_fingerprint) systemFingerprint = data.system_fingerprint;
        // One choice: the port owns `n`.
        const choice = data.choices?.find((candidate) => (candidate.index ?? 0) === 0);
        if (!choice) continue;
        const text = choice.delta?.content;
        if (typeof choice.delta?.refusal === 'string') refusal += choice.delta.refusal;
        const logprobs = choice.logprobs?.content;
        if ((typeof text === 'string' && text.length > 0) || logprobs?.length) {
          completionText += text ?? '';
          yield { type: 'delta', text: text ?? '', ...(logprobs?.length ? { logprobs } : {}) };
        }
        for (const [position, fragment] of (choice.delta?.tool_calls ?? []).entries()) {
          // Servers that send whole calls at once sometimes leave out `index`: a fragment without one
          // that names a new call id starts a new call, after the calls seen so far.
          const startsCall = typeof fragment.index !== 'number' && fragment.id !== undefined && !calls.some((known) => known?.id === fragment.id);
          const index = typeof fragment.index === 'number' ? fragment.index : startsCall ? Math.max(calls.length, position) : Math.max(0, calls.length - 1);
          const fresh = calls[index] === undefined;
          const call = (calls[index] ??= { id: undefined, name: undefined, arguments: '' });
          // A call must have an id the client can answer with: made up when the server sends none.
          const id = fragment.id && call.id === undefined ? fragment.id : fresh && !fragment.id ? `call_${randomUUID().replaceAll('-', '')}` : undefined;
          const name = fragment.function?.name && call.name === undefined ? fragment.function.name : undefined;
          const args = fragment.function?.arguments ?? '';
          call.id ??= id;
          call.name ??= name;
          call.arguments += args;
          if (!id && !name && args.length === 0) continue;
          yield { type: 'tool_call', index, ...(id ? { id } : {}), ...(name ? { name } : {}), arguments: args };
        }
        if (choice.finish_reason) finishReason = finishReasonOf(choice.finish_reason, calls.length > 0);
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw classifyLlmError(error, this.name);
    }
    if (signal?.aborted) throw signal.reason;
    if (finishReason === undefined) {
      // A connection closed cleanly mid-answer (a proxy ending the chunked body) must not pass for a
      // complete answer: every OpenAI-compatible server sends a finish_reason at the end.
      throw new LlmError('network', `${this.name}: upstream stream ended without a finish reason`, { provider: this.name });
    }
    if (!usage) {
      // Upstreams that ignore stream_options.include_usage: count locally so the request is still
      // billed and rate-limited (an uncounted stream is a known gateway loophole). Tool definitions
      // and tool calls are prompt and completion text like any other.
      const passages = request.passages?.length ? [{ content: passagesPrompt(request.passages) }] : [];
      const promptTokens = estimateTokens([...passages, ...request.messages]) + estimateToolDefinitionTokens(request.forward);
      const completionTokens = estimateTextTokens(completionText) + estimateToolCallTokens(calls.filter(Boolean).map((call) => ({ name: call.name ?? '', arguments: call.arguments })));
      usage = { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, estimated: true };
    }
    yield { type: 'done', usage, finishReason, ...(systemFingerprint ? { systemFingerprint } : {}), ...(refusal ? { refusal } : {}) };
  }
}
