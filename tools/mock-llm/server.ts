/**
 * OpenAI-compatible mock upstream for tests and benchmarks (node:http only).
 *
 * Written in erasable TypeScript (no enums, parameter properties or decorators) so Node 24 runs it
 * directly with type stripping:
 *
 *   node tools/mock-llm/server.ts --port 4010 [--reply-tokens 20] [--tokens-per-second 0]
 *        [--first-token-delay-ms 0] [--fail none] [--host 127.0.0.1]
 *
 * and tests import it:  const mock = await startMockLlm({ replyTokens: 5 });  ...  await mock.close();
 *
 * One file of ~700 lines on purpose: Node runs it as it is, from anywhere, with `node:` imports
 * only (no build, no workspace resolution); its steps (`route`, `handle`, `streamPaced`, ...) read
 * top to bottom.
 *
 * Endpoints
 *   POST /v1/chat/completions   non-stream JSON, or `stream: true` SSE in the OpenAI chunk format:
 *                               content chunks (role on the first), a final chunk with finish_reason,
 *                               a usage chunk when `stream_options.include_usage` is true, `[DONE]`.
 *   GET  /v1/models             the configured model ids.
 *
 * Behaviour (start options, changed later with setBehaviour(partial), or per request with the header
 * `x-mock-behaviour: {"fail":"http500"}` so one server can serve many tests):
 *   reply              fixed reply text; default "Echo: <last user message>" repeated to replyTokens words
 *   replyTokens        words in the default reply (default 20); `max_tokens` in the request truncates
 *                      the reply and sets finish_reason "length"
 *   firstTokenDelayMs  delay before the response starts (default 0)
 *   tokensPerSecond    pacing of streamed words; 0 = write the whole response at once (default 0)
 *   fail               'none' | 'http500' | 'http429' (Retry-After: retryAfterSeconds) | 'http401' |
 *                      'hang' (never answer) | 'drop-mid-stream' (destroy the socket after
 *                      dropAfterTokens words) | 'http400-context-length' (code context_length_exceeded)
 *   retryAfterSeconds  Retry-After of http429 (default 1)
 *   dropAfterTokens    words sent before drop-mid-stream cuts the connection (default 3)
 *   omitUsage          never send usage (neither the stream usage chunk nor `usage` in JSON), like
 *                      upstreams that ignore stream_options (default false)
 *
 * What it answers, deterministically, from the request body (the same rules with and without stream):
 *   last message is `tool`   text "Tool said: <content>" (several trailing tool messages: their contents
 *                            joined by "; "), finish_reason "stop"
 *   `tools`, last message    tool calls, finish_reason "tool_calls": to the tools named in the last user
 *   from the user            message (in the order named), else the first tool; `tool_choice`
 *                            {type:'function', function:{name}} forces that one, "none" answers text;
 *                            `parallel_tool_calls: false` keeps one call. Arguments: a JSON object built
 *                            from the tool's JSON-schema `parameters` (see schemaInstance). Streamed the
 *                            OpenAI way: per call a chunk with index, id, type and function.name and
 *                            empty arguments, then the arguments text in three fragments.
 *   response_format          json_object: {"answer":"<last user message>"}; json_schema: an instance of
 *                            `json_schema.schema` built by schemaInstance
 *   otherwise                the text reply above
 * `logprobs: true` adds a logprobs entry per word (logprob 0, `top_logprobs` alternatives); every
 * response carries `system_fingerprint: "mock-fp"`. stats().received keeps the last 100 request
 * bodies as received, for assertions on what a client forwarded.
 *
 * Tokens are whitespace-separated words, for the prompt (all message contents) and the completion.
 * It is the baseline of a latency benchmark, so the fast path (tokensPerSecond 0, no delay) builds the
 * whole response in one string and writes it with one `end()`: no timers per token.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

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
}

export interface MockLlmOptions extends Partial<MockLlmBehaviour> {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Ids listed by GET /v1/models (default ["mock-llm"]). */
  models?: string[];
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

/** A tool call the mock decided to make; `arguments` is JSON text. */
interface MockToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** Request bodies kept by stats().received (a benchmark sends hundreds of thousands). */
const RECEIVED_LIMIT = 100;
const SYSTEM_FINGERPRINT = 'mock-fp';

const DEFAULT_BEHAVIOUR: MockLlmBehaviour = {
  reply: undefined,
  replyTokens: 20,
  firstTokenDelayMs: 0,
  tokensPerSecond: 0,
  fail: 'none',
  retryAfterSeconds: 1,
  dropAfterTokens: 3,
  omitUsage: false,
};

const FAILURES: readonly MockFailure[] = ['none', 'http500', 'http429', 'http401', 'hang', 'drop-mid-stream', 'http400-context-length'];

function words(text: string): string[] {
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

function replyWords(behaviour: MockLlmBehaviour, request: ChatCompletionRequest): string[] {
  if (behaviour.reply !== undefined) return words(behaviour.reply);
  const messages = request.messages ?? [];
  const lastUser = [...messages].reverse().find((message) => message.role === 'user');
  const base = words(`Echo: ${contentText(lastUser?.content)}`);
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
function toolCallsFor(request: ChatCompletionRequest, idPrefix: string): MockToolCall[] {
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
function answerWords(behaviour: MockLlmBehaviour, request: ChatCompletionRequest): string[] {
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
function logprobOf(token: string, top: number) {
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

function parseBehaviourHeader(value: string | string[] | undefined): Partial<MockLlmBehaviour> {
  if (typeof value !== 'string' || value.length === 0) return {};
  const parsed: unknown = JSON.parse(value);
  if (typeof parsed !== 'object' || parsed === null) throw new Error('x-mock-behaviour must be a JSON object');
  return parsed as Partial<MockLlmBehaviour>;
}

function validate(behaviour: MockLlmBehaviour): void {
  if (!FAILURES.includes(behaviour.fail)) throw new Error(`unknown fail mode "${String(behaviour.fail)}"`);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

function openAiError(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function startMockLlm(options: MockLlmOptions = {}): Promise<MockLlm> {
  const mock = initialState(options);
  const server = createServer((req, res) => route(mock, req, res));
  // Many short benchmark connections: let keep-alive do its job and never wait on idle sockets at close.
  server.keepAliveTimeout = 5_000;
  const sockets = trackSockets(server);
  const address = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  return handle(mock, server, sockets, address);
}

/** What one mock server holds between requests. */
interface MockState {
  /** Changed by setBehaviour; a request may override it with the x-mock-behaviour header. */
  behaviour: MockLlmBehaviour;
  readonly models: string[];
  readonly stats: MockLlmStats;
  /** Numbers the completion ids. */
  sequence: number;
}

/** The behaviour the options ask for (the defaults for the rest), validated; fresh stats. */
function initialState(options: MockLlmOptions): MockState {
  let behaviour: MockLlmBehaviour = { ...DEFAULT_BEHAVIOUR };
  for (const key of Object.keys(DEFAULT_BEHAVIOUR) as (keyof MockLlmBehaviour)[]) {
    if (options[key] !== undefined) behaviour = { ...behaviour, [key]: options[key] };
  }
  validate(behaviour);
  return {
    behaviour,
    models: options.models ?? ['mock-llm'],
    stats: { requests: 0, streams: 0, completed: 0, failed: 0, aborted: 0, tokensSent: 0, lastRequest: undefined, received: [] },
    sequence: 0,
  };
}

function route(mock: MockState, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && path === '/v1/chat/completions') {
    chatCompletions(mock, req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, openAiError(`mock failure: ${(error as Error).message}`, 'server_error', null));
      else res.destroy();
    });
    return;
  }
  if (req.method === 'GET' && path === '/v1/models') {
    sendJson(res, 200, { object: 'list', data: mock.models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'mock-llm' })) });
    return;
  }
  sendJson(res, 404, openAiError(`no route ${req.method ?? ''} ${path ?? ''}`, 'invalid_request_error', 'not_found'));
}

/** Open connections, so close() can end hanging requests and idle keep-alive sockets at once. */
function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server.address() as AddressInfo;
}

function handle(mock: MockState, server: Server, sockets: Set<Socket>, address: AddressInfo): MockLlm {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/v1`,
    port: address.port,
    async close() {
      // Hanging requests and keep-alive sockets would otherwise keep close() waiting forever.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    stats: () => ({ ...mock.stats, received: [...mock.stats.received] }),
    setBehaviour(partial) {
      const next = { ...mock.behaviour, ...partial };
      validate(next);
      mock.behaviour = next;
    },
  };
}

/**
 * One POST /v1/chat/completions: read the request, then answer it the way its behaviour says:
 * never (hang), with an HTTP error, as JSON, or as an SSE stream (at once or paced, maybe cut).
 */
async function chatCompletions(mock: MockState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const exchange = openExchange(mock.stats, res);
  const parsed = await readChatRequest(req, mock);
  if ('error' in parsed) {
    exchange.finished = true;
    sendJson(res, 400, openAiError(`invalid request: ${parsed.error.message}`, 'invalid_request_error', null));
    return;
  }
  const { request, behaviour } = parsed;
  mock.stats.lastRequest = request;
  mock.stats.received.push(request);
  if (mock.stats.received.length > RECEIVED_LIMIT) mock.stats.received.shift();
  if (request.stream === true) mock.stats.streams++;

  if (behaviour.fail === 'hang') {
    mock.stats.failed++;
    return; // never answer; close() destroys the socket
  }
  if (behaviour.firstTokenDelayMs > 0) await delay(behaviour.firstTokenDelayMs);
  if (res.destroyed) return;
  if (sendInjectedError(exchange, behaviour, request)) return;

  const completion = composeCompletion(mock, request, behaviour);
  if (request.stream !== true) sendCompletion(exchange, completion);
  else if (behaviour.tokensPerSecond <= 0) streamAtOnce(exchange, completion);
  else await streamPaced(exchange, completion, 1000 / behaviour.tokensPerSecond);
}

/** A response under way; `finished` once the mock has answered (or cut) it on purpose. */
interface Exchange {
  readonly res: ServerResponse;
  readonly stats: MockLlmStats;
  finished: boolean;
}

/** Counts the request, and an abort when the client goes away before the response is complete. */
function openExchange(stats: MockLlmStats, res: ServerResponse): Exchange {
  stats.requests++;
  const exchange: Exchange = { res, stats, finished: false };
  // 'close' before the response ended = the client went away (abort, timeout, fallback).
  res.on('close', () => {
    if (!exchange.finished && !res.writableFinished) stats.aborted++;
  });
  return exchange;
}

/** The body, and the behaviour for this request (the server's once the body is in, overridden by x-mock-behaviour). */
async function readChatRequest(req: IncomingMessage, mock: MockState): Promise<{ request: ChatCompletionRequest; behaviour: MockLlmBehaviour } | { error: Error }> {
  try {
    const request = JSON.parse(await readBody(req)) as ChatCompletionRequest;
    const effective = { ...mock.behaviour, ...parseBehaviourHeader(req.headers['x-mock-behaviour']) };
    validate(effective);
    return { request, behaviour: effective };
  } catch (error) {
    return { error: error as Error };
  }
}

function promptTokens(request: ChatCompletionRequest): number {
  return (request.messages ?? []).reduce((sum, message) => sum + words(contentText(message.content)).length, 0);
}

/** Answers with the HTTP error the behaviour injects, if any; true when it did. */
function sendInjectedError(exchange: Exchange, behaviour: MockLlmBehaviour, request: ChatCompletionRequest): boolean {
  const fail = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    exchange.stats.failed++;
    exchange.finished = true;
    sendJson(exchange.res, status, body, headers);
    return true;
  };
  switch (behaviour.fail) {
    case 'http500':
      return fail(500, openAiError('The mock upstream had an internal error.', 'server_error', null));
    case 'http429':
      return fail(429, openAiError('Rate limit reached for requests (mock).', 'requests', 'rate_limit_exceeded'), { 'retry-after': String(behaviour.retryAfterSeconds) });
    case 'http401':
      return fail(401, openAiError('Incorrect API key provided (mock).', 'invalid_request_error', 'invalid_api_key'));
    case 'http400-context-length':
      return fail(
        400,
        openAiError(
          `This model's maximum context length is 8192 tokens. However, your messages resulted in ${promptTokens(request) + 8192} tokens. Please reduce the length of the messages.`,
          'invalid_request_error',
          'context_length_exceeded',
          'messages',
        ),
      );
    default:
      return false;
  }
}

/** The answer to a request: its words (truncated to max_tokens) or tool calls, usage, and what names it. */
interface Completion {
  readonly request: ChatCompletionRequest;
  readonly reply: string[];
  /** When non-empty the answer is these calls, not `reply`. */
  readonly toolCalls: MockToolCall[];
  readonly finishReason: string;
  readonly usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  readonly omitUsage: boolean;
  /** Content frames of a stream: one per word, or per tool-call fragment. */
  readonly frames: number;
  /** Frames sent before the stream is cut ('drop-mid-stream'), or all of them. */
  readonly tokensToSend: number;
  readonly drop: boolean;
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

/** Argument fragments per streamed tool call (after the fragment that names it). */
const ARGUMENT_FRAGMENTS = 3;

/** The arguments text in ARGUMENT_FRAGMENTS non-empty pieces (fewer when it is shorter). */
function argumentPieces(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / ARGUMENT_FRAGMENTS));
  const pieces: string[] = [];
  for (let at = 0; at < text.length; at += size) pieces.push(text.slice(at, at + size));
  return pieces;
}

function composeCompletion(mock: MockState, request: ChatCompletionRequest, behaviour: MockLlmBehaviour): Completion {
  const prompt = promptTokens(request);
  const sequence = ++mock.sequence;
  const toolCalls = toolCallsFor(request, `call_mock_${sequence}`);
  let reply = toolCalls.length > 0 ? [] : answerWords(behaviour, request);
  let finishReason = toolCalls.length > 0 ? 'tool_calls' : 'stop';
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number' && maxTokens > 0 && reply.length > maxTokens) {
    reply = reply.slice(0, maxTokens);
    finishReason = 'length';
  }
  const completionTokens = toolCalls.length > 0 ? toolCalls.reduce((sum, call) => sum + words(`${call.name} ${call.arguments}`).length, 0) : reply.length;
  const frames = toolCalls.length > 0 ? toolCalls.reduce((sum, call) => sum + 1 + argumentPieces(call.arguments).length, 0) : reply.length;
  const drop = behaviour.fail === 'drop-mid-stream';
  return {
    request,
    reply,
    toolCalls,
    finishReason,
    usage: { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens },
    omitUsage: behaviour.omitUsage,
    frames,
    tokensToSend: drop ? Math.min(behaviour.dropAfterTokens, frames) : frames,
    drop,
    id: `chatcmpl-mock-${sequence}`,
    created: Math.floor(Date.now() / 1000),
    model: request.model ?? mock.models[0] ?? 'mock-llm',
  };
}

/** Not streaming: the whole answer as one JSON body ('drop-mid-stream' only cuts streams). */
function sendCompletion(exchange: Exchange, completion: Completion): void {
  const { reply, toolCalls, id, created, model, finishReason, usage, request } = completion;
  exchange.stats.tokensSent += completion.usage.completion_tokens;
  exchange.finished = true;
  exchange.stats.completed++;
  const message =
    toolCalls.length > 0
      ? { role: 'assistant', content: null, tool_calls: toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })) }
      : { role: 'assistant', content: reply.join(' ') };
  const logprobs = request.logprobs === true ? { content: reply.map((word, index) => logprobOf(index === 0 ? word : ` ${word}`, request.top_logprobs ?? 0)), refusal: null } : null;
  sendJson(exchange.res, 200, {
    id,
    object: 'chat.completion',
    created,
    model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, message, logprobs, finish_reason: finishReason }],
    ...(completion.omitUsage ? {} : { usage }),
  });
}

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

/** The SSE frame of a chunk in the OpenAI format. */
function chunkFrame(completion: Completion, delta: Record<string, unknown>, finish: string | null, logprobs: unknown = undefined): string {
  const { id, created, model } = completion;
  const choice = { index: 0, delta, ...(logprobs !== undefined ? { logprobs } : {}), finish_reason: finish };
  return `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: SYSTEM_FINGERPRINT, choices: [choice] })}\n\n`;
}

/** Word `index` of the answer as a frame: the role comes with the first, a space before the others. */
function tokenFrame(completion: Completion, index: number): string {
  const { reply, request } = completion;
  const content = index === 0 ? (reply[0] ?? '') : ` ${reply[index] ?? ''}`;
  const logprobs = request.logprobs === true ? { content: [logprobOf(content, request.top_logprobs ?? 0)] } : undefined;
  return chunkFrame(completion, index === 0 ? { role: 'assistant', content } : { content }, null, logprobs);
}

/**
 * The frames of tool calls, as OpenAI streams them: per call one naming it (index, id, type,
 * function.name, empty arguments; the role with the first), then its arguments in fragments.
 */
function toolCallFrames(completion: Completion): string[] {
  const frames: string[] = [];
  completion.toolCalls.forEach((call, index) => {
    const named = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
    frames.push(chunkFrame(completion, index === 0 ? { role: 'assistant', content: null, tool_calls: [named] } : { tool_calls: [named] }, null));
    for (const piece of argumentPieces(call.arguments)) frames.push(chunkFrame(completion, { tool_calls: [{ index, function: { arguments: piece } }] }, null));
  });
  return frames;
}

/** Content frame `index` of the stream. */
function contentFrame(completion: Completion, index: number, toolFrames: readonly string[] | undefined): string {
  return toolFrames ? (toolFrames[index] ?? '') : tokenFrame(completion, index);
}

/** After the words: the finish reason, the usage chunk when the client asked for it, [DONE]. */
function tailFrames(completion: Completion): string {
  const { id, created, model, usage, request } = completion;
  return (
    chunkFrame(completion, {}, completion.finishReason) +
    (request.stream_options?.include_usage === true && !completion.omitUsage
      ? `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: SYSTEM_FINGERPRINT, choices: [], usage })}\n\n`
      : '') +
    'data: [DONE]\n\n'
  );
}

/**
 * The fast path (tokensPerSecond 0): the whole stream built as one string and written with one
 * `end()`, no timers per token — it is the baseline of a latency benchmark.
 */
function streamAtOnce(exchange: Exchange, completion: Completion): void {
  const { res, stats } = exchange;
  const toolFrames = completion.toolCalls.length > 0 ? toolCallFrames(completion) : undefined;
  let payload = '';
  for (let i = 0; i < completion.tokensToSend; i++) payload += contentFrame(completion, i, toolFrames);
  stats.tokensSent += completion.tokensToSend;
  if (completion.drop) {
    // Chunked encoding without its terminator, then a cut connection: the client sees a broken
    // stream, not a short answer.
    stats.failed++;
    exchange.finished = true;
    res.writeHead(200, SSE_HEADERS);
    res.write(payload, () => res.socket?.destroy());
    return;
  }
  payload += tailFrames(completion);
  exchange.finished = true;
  stats.completed++;
  res.writeHead(200, { ...SSE_HEADERS, 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/** One word every `intervalMs`, stopping when the client goes away; cut or finished at the end. */
async function streamPaced(exchange: Exchange, completion: Completion, intervalMs: number): Promise<void> {
  const { res, stats } = exchange;
  const toolFrames = completion.toolCalls.length > 0 ? toolCallFrames(completion) : undefined;
  res.writeHead(200, SSE_HEADERS);
  for (let i = 0; i < completion.tokensToSend; i++) {
    if (res.destroyed) return;
    if (i > 0) await delay(intervalMs);
    if (res.destroyed) return;
    res.write(contentFrame(completion, i, toolFrames));
    stats.tokensSent++;
  }
  if (completion.drop) {
    stats.failed++;
    exchange.finished = true;
    res.socket?.destroy();
    return;
  }
  exchange.finished = true;
  stats.completed++;
  res.end(tailFrames(completion));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      'reply-tokens': { type: 'string' },
      'tokens-per-second': { type: 'string' },
      'first-token-delay-ms': { type: 'string' },
      fail: { type: 'string' },
    },
  });
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  const options: MockLlmOptions = { port: Number(values.port), host: values.host };
  const replyTokens = number(values['reply-tokens']);
  const tokensPerSecond = number(values['tokens-per-second']);
  const firstTokenDelayMs = number(values['first-token-delay-ms']);
  if (replyTokens !== undefined) options.replyTokens = replyTokens;
  if (tokensPerSecond !== undefined) options.tokensPerSecond = tokensPerSecond;
  if (firstTokenDelayMs !== undefined) options.firstTokenDelayMs = firstTokenDelayMs;
  if (values.fail !== undefined) options.fail = values.fail as MockFailure;
  const mock = await startMockLlm(options);
  process.stdout.write(`mock-llm listening on ${mock.url}\n`);
  const stop = () => void mock.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
