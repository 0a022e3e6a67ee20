export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
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
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** True when the upstream reported no usage and these figures were counted locally. */
  estimated?: boolean;
}

export type FinishReason = 'stop' | 'length' | 'content_filter';

export type ChatChunk =
  | { type: 'delta'; text: string }
  | { type: 'done'; usage: TokenUsage; finishReason: FinishReason };

/**
 * A chat model that streams. Contract: zero or more non-empty `delta` chunks, then exactly one
 * `done` chunk; failures reject the iteration with an `LlmError` (or the abort reason when the
 * request's signal was aborted).
 */
export interface ChatModelPort {
  /** Provider name, unique in the cluster (the cooldown key uses it). */
  readonly name: string;
  /** Model id sent upstream (or `extractive`). */
  readonly model: string;
  stream(request: ChatStreamRequest): AsyncIterable<ChatChunk>;
}
