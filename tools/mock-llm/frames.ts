/**
 * How the mock writes an answer: OpenAI JSON bodies and errors, and the SSE stream in the OpenAI
 * chunk format — content chunks (role on the first), a final chunk with finish_reason, a usage chunk
 * when `stream_options.include_usage` is true, `[DONE]`. Tool calls stream the OpenAI way: per call a
 * chunk with index, id, type and function.name and empty arguments, then the arguments text in three
 * fragments. Every response carries `system_fingerprint: "mock-fp"`.
 *
 * It is the baseline of a latency benchmark, so the fast path (tokensPerSecond 0, no delay) builds the
 * whole response in one string and writes it with one `end()`: no timers per token.
 */
import type { ServerResponse } from 'node:http';
import { logprobOf, type MockToolCall } from './answers.ts';
import type { ChatCompletionRequest, MockLlmStats } from './types.ts';

const SYSTEM_FINGERPRINT = 'mock-fp';

/** A response under way; `finished` once the mock has answered (or cut) it on purpose. */
export interface Exchange {
  readonly res: ServerResponse;
  readonly stats: MockLlmStats;
  finished: boolean;
}

/** Counts the request, and an abort when the client goes away before the response is complete. */
export function openExchange(stats: MockLlmStats, res: ServerResponse): Exchange {
  stats.requests++;
  const exchange: Exchange = { res, stats, finished: false };
  // 'close' before the response ended = the client went away (abort, timeout, fallback).
  res.on('close', () => {
    if (!exchange.finished && !res.writableFinished) stats.aborted++;
  });
  return exchange;
}

/** The answer to a request: its words (truncated to max_tokens) or tool calls, usage, and what names it. */
export interface Completion {
  readonly request: ChatCompletionRequest;
  readonly reply: string[];
  /** When non-empty the answer is these calls, not `reply`. */
  readonly toolCalls: MockToolCall[];
  readonly finishReason: string;
  readonly usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details?: { cached_tokens: number }; completion_tokens_details?: { reasoning_tokens: number } };
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
export function argumentPieces(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / ARGUMENT_FRAGMENTS));
  const pieces: string[] = [];
  for (let at = 0; at < text.length; at += size) pieces.push(text.slice(at, at + size));
  return pieces;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

export function openAiError(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

/** Not streaming: the whole answer as one JSON body ('drop-mid-stream' only cuts streams). */
export function sendCompletion(exchange: Exchange, completion: Completion): void {
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
export function streamAtOnce(exchange: Exchange, completion: Completion): void {
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
export async function streamPaced(exchange: Exchange, completion: Completion, intervalMs: number): Promise<void> {
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

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
