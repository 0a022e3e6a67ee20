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
 * Node runs it as it is, from anywhere, with `node:` imports only (no build, no workspace
 * resolution) and relative imports with their `.ts` extension. It is split by role, each file read
 * top to bottom: this one (options, state, HTTP routing, startMockLlm, the CLI), answers.ts (what it
 * answers from a request: pure functions), frames.ts (the OpenAI JSON and SSE shapes and the
 * writers) and types.ts (the API's types, re-exported here).
 *
 * Endpoints
 *   POST /v1/chat/completions   non-stream JSON, or `stream: true` SSE in the OpenAI chunk format
 *                               (frames.ts); what it answers: answers.ts.
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
 *   prefillMsPerToken  delay per prompt token before the first token (default 0); with the start
 *                      option `prefixCache`, tokens of a prompt prefix this server answered recently
 *                      are free and reported as cached_tokens (prefix-cache.ts) — a KV cache per server
 *
 * stats().received keeps the last 100 request bodies as received, for assertions on what a client
 * forwarded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { answerWords, promptTokens, toolCallsFor, words } from './answers.ts';
import { PrefixCache } from './prefix-cache.ts';
import { argumentPieces, delay, openAiError, openExchange, sendCompletion, sendJson, streamAtOnce, streamPaced, type Completion, type Exchange } from './frames.ts';
import type { ChatCompletionRequest, MockFailure, MockLlm, MockLlmBehaviour, MockLlmOptions, MockLlmStats } from './types.ts';

export { schemaInstance } from './answers.ts';
export type { ChatCompletionMessage, ChatCompletionRequest, JsonSchema, MockFailure, MockLlm, MockLlmBehaviour, MockLlmOptions, MockLlmStats, ToolDefinition } from './types.ts';

/** Request bodies kept by stats().received (a benchmark sends hundreds of thousands). */
const RECEIVED_LIMIT = 100;

const DEFAULT_BEHAVIOUR: MockLlmBehaviour = {
  reply: undefined,
  replyTokens: 20,
  firstTokenDelayMs: 0,
  tokensPerSecond: 0,
  fail: 'none',
  retryAfterSeconds: 1,
  dropAfterTokens: 3,
  omitUsage: false,
  prefillMsPerToken: 0,
};

const FAILURES: readonly MockFailure[] = ['none', 'http500', 'http429', 'http401', 'hang', 'drop-mid-stream', 'http400-context-length'];

function parseBehaviourHeader(value: string | string[] | undefined): Partial<MockLlmBehaviour> {
  if (typeof value !== 'string' || value.length === 0) return {};
  const parsed: unknown = JSON.parse(value);
  if (typeof parsed !== 'object' || parsed === null) throw new Error('x-mock-behaviour must be a JSON object');
  return parsed as Partial<MockLlmBehaviour>;
}

function validate(behaviour: MockLlmBehaviour): void {
  if (!FAILURES.includes(behaviour.fail)) throw new Error(`unknown fail mode "${String(behaviour.fail)}"`);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
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
  /** The simulated KV cache, when the server was started with `prefixCache`. */
  readonly prefixCache: PrefixCache | undefined;
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
    prefixCache: options.prefixCache ? new PrefixCache() : undefined,
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
  const messages = request.messages ?? [];
  const cached = mock.prefixCache?.cachedTokens(messages);
  const prefillMs = behaviour.prefillMsPerToken > 0 ? behaviour.prefillMsPerToken * (promptTokens(request) - (cached ?? 0)) : 0;
  if (behaviour.firstTokenDelayMs + prefillMs > 0) await delay(behaviour.firstTokenDelayMs + prefillMs);
  if (res.destroyed) return;
  if (sendInjectedError(exchange, behaviour, request)) return;

  const completion = composeCompletion(mock, request, behaviour, cached);
  // The engine keeps the prompt and the answer it generated: the next turn begins with both.
  mock.prefixCache?.remember(completion.toolCalls.length > 0 ? messages : [...messages, { role: 'assistant', content: completion.reply.join(' ') }]);
  if (request.stream !== true) sendCompletion(exchange, completion);
  else if (behaviour.tokensPerSecond <= 0) streamAtOnce(exchange, completion);
  else await streamPaced(exchange, completion, 1000 / behaviour.tokensPerSecond);
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

function composeCompletion(mock: MockState, request: ChatCompletionRequest, behaviour: MockLlmBehaviour, cachedTokens: number | undefined): Completion {
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
    // Details as OpenAI sends them; without a prefix cache half the prompt "cached", so a test can tell them from defaults.
    usage: { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens, prompt_tokens_details: { cached_tokens: cachedTokens ?? Math.floor(prompt / 2) }, completion_tokens_details: { reasoning_tokens: 0 } },
    omitUsage: behaviour.omitUsage,
    frames,
    tokensToSend: drop ? Math.min(behaviour.dropAfterTokens, frames) : frames,
    drop,
    id: `chatcmpl-mock-${sequence}`,
    created: Math.floor(Date.now() / 1000),
    model: request.model ?? mock.models[0] ?? 'mock-llm',
  };
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
