export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

/** A function call the model asked for (OpenAI's `tool_calls[]`): `arguments` is JSON text, as the model wrote it. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A part of a message with more than text. An image's `url` is `https:` or a `data:` URI (claim checks redeemed). */
export type MessagePart = { type: 'text'; text: string } | { type: 'image'; url: string; detail?: 'auto' | 'low' | 'high' };

export interface ChatMessage {
  role: ChatRole;
  /** The text (the text parts joined). */
  content: string;
  /** All parts in order, when the message has images; providers that read images get these instead of `content`. */
  parts?: MessagePart[];
  /** The participant's name (OpenAI's `name`), for providers that take it. */
  name?: string;
  /** An assistant turn that called tools. */
  toolCalls?: ToolCall[];
  /** A `tool` turn: the call it answers. */
  toolCallId?: string;
}

/** Where a passage came from, so an answer can cite it. */
export interface PassageSource {
  docId: string;
  version?: string | number;
  /** Chunk index or offset inside the document. */
  position?: number;
}

/** A retrieved piece of a document handed to the model as grounding. */
export interface Passage {
  text: string;
  source: PassageSource;
}

export interface ChatStreamRequest {
  messages: ChatMessage[];
  /** Upper bound of completion tokens; adapters stop with finishReason 'length' when reached. */
  maxTokens: number;
  temperature?: number;
  /** Aborting stops the upstream request; the stream then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Retrieved passages. The extractive responder answers from them; LLM adapters pass them to the
   * model as a numbered system message, so one request works for every provider of a chain.
   */
  passages?: Passage[];
  /**
   * Fields of OpenAI's Chat Completions request forwarded as they are to providers that speak
   * OpenAI's API: `tools`, `tool_choice`, `parallel_tool_calls`, `response_format`, `stop`,
   * `top_p`, `seed`, `presence_penalty`, `frequency_penalty`, `logit_bias`, `logprobs`,
   * `top_logprobs`, `reasoning_effort`, ... (validated at the edge). A provider that cannot honour
   * them is not asked (`ChatModelPort.forwards`); the chain refuses a request none can honour.
   */
  forward?: Record<string, unknown>;
  /** What keeps a sticky alias on one weighted variant: the conversation (tenant and session). */
  routingKey?: string;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Prompt tokens the provider served from its cache (OpenAI's `prompt_tokens_details.cached_tokens`), when it says. */
  cachedTokens?: number;
  /** Completion tokens spent reasoning (`completion_tokens_details.reasoning_tokens`), when it says. */
  reasoningTokens?: number;
  /** True when the upstream reported no usage and these figures were counted locally. */
  estimated?: boolean;
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls';

/**
 * A fragment of a tool call, as OpenAI streams them: the first fragment of call `index` carries
 * its `id` and `name`, later ones more `arguments` text to append.
 */
export interface ToolCallFragment {
  type: 'tool_call';
  index: number;
  id?: string;
  name?: string;
  arguments: string;
}

/** One token's log probability, as OpenAI's `logprobs.content[]` has it (`logprobs: true`), passed on as it is. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
  top_logprobs: { token: string; logprob: number; bytes: number[] | null }[];
}

export type ChatChunk =
  /** Text of the answer; `logprobs`: its tokens', when the request asked for them. */
  | { type: 'delta'; text: string; logprobs?: TokenLogprob[] }
  | ToolCallFragment
  | {
      type: 'done';
      usage: TokenUsage;
      finishReason: FinishReason;
      /** The provider's `system_fingerprint` (its backend configuration), when it sends one. */
      systemFingerprint?: string;
      /** The model's refusal (structured outputs), whole: OpenAI's `message.refusal`. */
      refusal?: string;
      /**
       * Indexes into `request.passages` of the passages the answer used, when the model knows them
       * (the extractive responder does); otherwise the caller reads the answer's `[n]` citations.
       */
      citedPassages?: number[];
    };

/**
 * A chat model that streams. Contract: zero or more non-empty `delta` and `tool_call` chunks,
 * then exactly one `done` chunk; failures reject the iteration with an `LlmError` (or the abort reason when the
 * request's signal was aborted).
 */
export interface ChatModelPort {
  /** Provider name, unique in the cluster (the cooldown key uses it). */
  readonly name: string;
  /** Model id sent upstream (or `extractive`). */
  readonly model: string;
  /** True when it honours `ChatStreamRequest.forward` (tools, structured output, sampling fields) and tool turns. */
  readonly forwards: boolean;
  /** True when it reads image parts: declared per provider in the routing document (`capabilities: ["images"]`). */
  readonly images?: boolean;
  stream(request: ChatStreamRequest): AsyncIterable<ChatChunk>;
}
