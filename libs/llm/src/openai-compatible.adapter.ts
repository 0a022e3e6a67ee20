import { ChatOpenAI } from '@langchain/openai';
import { AIMessage, HumanMessage, SystemMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatChunk, ChatModelPort, ChatStreamRequest, FinishReason, Passage, TokenUsage } from './chat-model.port.ts';
import { LlmError } from './llm.error.ts';
import { classifyLlmError } from './llm-error.classifier.ts';
import { estimateTextTokens, estimateTokens } from './token-estimate.ts';

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
}

/** Requests differ in maxTokens/temperature, which ChatOpenAI only takes at construction. */
const MAX_CACHED_CLIENTS = 32;

function passagesMessage(passages: readonly Passage[]): SystemMessage {
  const lines = passages.map((passage, index) => {
    const { docId, version, position } = passage.source;
    const where = [`doc ${docId}`, version !== undefined ? `version ${version}` : '', position !== undefined ? `position ${position}` : ''].filter(Boolean).join(', ');
    return `[${index + 1}] (${where}) ${passage.text}`;
  });
  return new SystemMessage(
    `Answer from the numbered passages below when they are relevant and cite them as [n]. If they do not contain the answer, say so.\n\n${lines.join('\n\n')}`,
  );
}

function toLangChain(request: ChatStreamRequest): BaseMessage[] {
  const messages: BaseMessage[] = request.passages?.length ? [passagesMessage(request.passages)] : [];
  for (const message of request.messages) {
    if (message.role === 'system') messages.push(new SystemMessage(message.content));
    else if (message.role === 'assistant') messages.push(new AIMessage(message.content));
    else messages.push(new HumanMessage(message.content));
  }
  return messages;
}

function finishReasonOf(value: unknown): FinishReason | undefined {
  if (value === 'length' || value === 'content_filter' || value === 'stop') return value;
  // tool_calls / function_call / eos and other server-specific reasons: the answer is complete.
  return typeof value === 'string' && value.length > 0 ? 'stop' : undefined;
}

/**
 * Any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, DashScope, ...) through LangChain's
 * ChatOpenAI. It makes exactly one upstream call per stream: retries and fallback belong to the
 * FallbackChain, which needs to see every failure to cool the provider down.
 */
export class OpenAICompatibleAdapter implements ChatModelPort {
  readonly name: string;
  readonly model: string;
  private readonly options: OpenAICompatibleOptions;
  private readonly clients = new Map<string, ChatOpenAI>();

  constructor(options: OpenAICompatibleOptions) {
    this.options = options;
    this.name = options.name;
    this.model = options.model;
  }

  private client(maxTokens: number, temperature: number | undefined): ChatOpenAI {
    const key = `${maxTokens}|${temperature ?? ''}`;
    const cached = this.clients.get(key);
    if (cached) return cached;
    const client = new ChatOpenAI({
      model: this.options.model,
      // An explicit key also stops LangChain from falling back to OPENAI_API_KEY from the environment.
      apiKey: this.options.apiKey ?? 'not-needed',
      configuration: { baseURL: this.options.baseUrl, ...(this.options.headers ? { defaultHeaders: this.options.headers } : {}) },
      streaming: true,
      streamUsage: true,
      maxRetries: 0,
      maxTokens,
      ...(temperature !== undefined ? { temperature } : {}),
      ...(this.options.requestTimeoutMs !== undefined ? { timeout: this.options.requestTimeoutMs } : {}),
    });
    if (this.clients.size >= MAX_CACHED_CLIENTS) {
      const oldest = this.clients.keys().next().value;
      if (oldest !== undefined) this.clients.delete(oldest);
    }
    this.clients.set(key, client);
    return client;
  }

  async *stream(request: ChatStreamRequest): AsyncGenerator<ChatChunk> {
    const messages = toLangChain(request);
    const { signal } = request;
    let usage: TokenUsage | undefined;
    let finishReason: FinishReason | undefined;
    let completionText = '';
    try {
      const stream = await this.client(request.maxTokens, request.temperature).stream(messages, signal ? { signal } : {});
      for await (const chunk of stream) {
        const text = typeof chunk.content === 'string' ? chunk.content : chunk.text;
        if (chunk.usage_metadata) {
          usage = {
            promptTokens: chunk.usage_metadata.input_tokens,
            completionTokens: chunk.usage_metadata.output_tokens,
            totalTokens: chunk.usage_metadata.total_tokens,
          };
        }
        finishReason = finishReasonOf(chunk.response_metadata?.['finish_reason']) ?? finishReason;
        if (text.length > 0) {
          completionText += text;
          yield { type: 'delta', text };
        }
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
      // billed and rate-limited (an uncounted stream is a known gateway loophole).
      const promptTokens = estimateTokens(messages.map((message) => ({ content: typeof message.content === 'string' ? message.content : message.text })));
      const completionTokens = estimateTextTokens(completionText);
      usage = { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, estimated: true };
    }
    yield { type: 'done', usage, finishReason };
  }
}
