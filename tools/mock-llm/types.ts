/**
 * The shapes of the mock's API (re-exported by server.ts, which is what `@aip/mock-llm` resolves to):
 * the behaviour and start options, the stats, the handle startMockLlm returns, and the request body
 * as the mock reads it. Types only, so every other file of the mock can import them.
 */

export type MockFailure = 'none' | 'http500' | 'http429' | 'http401' | 'hang' | 'drop-mid-stream' | 'http400-context-length';

export interface MockLlmBehaviour {
  reply: string | undefined;
  replyTokens: number;
  firstTokenDelayMs: number;
  tokensPerSecond: number;
  fail: MockFailure;
  retryAfterSeconds: number;
  dropAfterTokens: number;
  omitUsage: boolean;
  /** Time per prompt token not in the prefix cache, before the first token (a serving engine's prefill). */
  prefillMsPerToken: number;
}

export interface MockLlmOptions extends Partial<MockLlmBehaviour> {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Ids listed by GET /v1/models (default ["mock-llm"]). */
  models?: string[];
  /**
   * Keep a simulated prefix (KV) cache (prefix-cache.ts): prompt tokens that begin like a prompt this
   * server answered recently cost no prefill and are reported as `cached_tokens`.
   */
  prefixCache?: boolean;
}

export interface MockLlmStats {
  /** Every HTTP request to /v1/chat/completions, including failed ones. */
  requests: number;
  /** Requests with `stream: true`. */
  streams: number;
  /** Responses written to the end (success only). */
  completed: number;
  /** Requests answered with an injected failure (http errors, hang, drop). */
  failed: number;
  /** Connections the client closed before the response was complete. */
  aborted: number;
  /** Completion words written, over all responses. */
  tokensSent: number;
  /** The last request body seen, for assertions on what the client sent. */
  lastRequest: ChatCompletionRequest | undefined;
  /** The last RECEIVED_LIMIT request bodies (oldest first), parsed but otherwise as received. */
  received: ChatCompletionRequest[];
}

export interface MockLlm {
  /** Base URL including /v1, e.g. http://127.0.0.1:4010/v1 */
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): MockLlmStats;
  setBehaviour(partial: Partial<MockLlmBehaviour>): void;
}

/** The JSON-schema keywords the mock understands when it builds arguments and structured output. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

export interface ChatCompletionMessage {
  role?: string;
  content?: unknown;
  tool_calls?: { id?: string; type?: string; function?: { name?: string; arguments?: string } }[];
  tool_call_id?: string;
}

export interface ToolDefinition {
  type?: string;
  function?: { name?: string; description?: string; parameters?: JsonSchema };
}

export interface ChatCompletionRequest {
  model?: string;
  messages?: ChatCompletionMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  tools?: ToolDefinition[];
  tool_choice?: unknown;
  parallel_tool_calls?: boolean;
  response_format?: { type?: string; json_schema?: { name?: string; schema?: JsonSchema; strict?: boolean } };
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  /** Any other field, kept as received. */
  [field: string]: unknown;
}
