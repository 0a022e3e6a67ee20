import { Body, Controller, Get, Headers, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { StreamMasker, type WordFilter } from '@aip/chat-policy';
import { ApiError, ApiKeyGuard, ENV, type AuthenticatedRequest } from '@aip/runtime';
import { TaskEventHub, type RunningLimits, type Task, type TaskEvent } from '@aip/tasks';
import type { FastifyReply } from 'fastify';
import type { AccessEnv } from '../access.config.ts';
import { openAiUsage, totalUsage } from '../common/openai-usage.ts';
import { rateLimitHeaders } from '../common/rate-limit-headers.ts';
import { errorFor } from '../common/task-error.ts';
import { Moderation } from '../moderation/moderation.service.ts';
import { ModelCatalog } from '@aip/chat-policy';
import type { AssistantMessage, ChatCompletion, ChoiceLogprobs, ModelList } from './chat-response.schema.ts';
import type { ChatRequest } from './chat-request.schema.ts';
import { SubmissionService } from './submission.service.ts';
import { AnswerText, AnswerToolCalls, followTask } from './task-relay.ts';

type DoneEvent = Extract<TaskEvent, { type: 'done' }>;

/** One of a request's answers as the client sees it (text, tool calls, tokens), from its task's events. */
class Choice {
  readonly answer = new AnswerText();
  readonly toolCalls = new AnswerToolCalls();
  readonly masker: StreamMasker;
  /** The tokens' log probabilities, when asked for (refused at submission while words are masked). */
  tokens: NonNullable<Extract<TaskEvent, { type: 'delta' }>['logprobs']> = [];
  done: DoneEvent | undefined;

  constructor(private readonly filter: WordFilter) {
    this.masker = new StreamMasker(filter);
  }

  delta(event: Extract<TaskEvent, { type: 'delta' }>): void {
    this.answer.delta(event.text);
    if (event.logprobs) this.tokens.push(...event.logprobs);
  }

  restart(): void {
    this.answer.restart();
    this.toolCalls.restart();
    this.tokens = [];
  }

  /** The whole answer, masked; OpenAI's shape: an answer that only calls tools has `content: null`. */
  message(): AssistantMessage {
    // Words on the list are masked in the calls' arguments too (the JSON stays JSON: letters become '*').
    const calls = this.toolCalls.calls.map((call) => ({ ...call, function: { ...call.function, arguments: this.filter.maskJson(call.function.arguments) } }));
    const { refusal } = this.done ?? {};
    return { role: 'assistant', content: calls.length > 0 && this.answer.text === '' ? null : this.filter.mask(this.answer.text), ...(calls.length > 0 ? { tool_calls: calls } : {}), refusal: refusal ? this.filter.mask(refusal) : null };
  }
}

/** Every answer's final event, once all have one. */
function finished(choices: readonly Choice[]): DoneEvent[] | undefined {
  const done = choices.flatMap((choice) => (choice.done ? [choice.done] : []));
  return done.length === choices.length ? done : undefined;
}

/** Several task streams as one, each event with the position of its stream, in arrival order. */
async function* merged<T>(streams: AsyncGenerator<T>[]): AsyncGenerator<{ index: number; stored: T }> {
  const next = (index: number) => streams[index]!.next().then((result) => ({ index, result }));
  const pending = new Map(streams.map((_, index) => [index, next(index)]));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(index);
        continue;
      }
      pending.set(index, next(index));
      yield { index, stored: result.value };
    }
  } finally {
    // Not awaited: a stream waiting for its next event ends when the caller's signal aborts.
    for (const stream of streams) void stream.return(undefined).catch(() => undefined);
  }
}


/** `POST /v1/chat/completions` (JSON or SSE in OpenAI's chunk format) and `GET /v1/models` (chat and embedding models). */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class ChatController {
  constructor(
    @Inject(SubmissionService) private readonly submissions: SubmissionService,
    @Inject(TaskEventHub) private readonly hub: TaskEventHub,
    @Inject(ENV) private readonly env: AccessEnv,
    @Inject(Moderation) private readonly moderation: Moderation,
    @Inject(ModelCatalog) private readonly catalog: ModelCatalog,
  ) {}

  @Get('models')
  models(@Req() request: AuthenticatedRequest): ModelList {
    // The chat models the workers serve, and the embedding model (POST /v1/embeddings).
    const served = [...this.catalog.aliases, this.env.EMBEDDINGS_MODEL_ALIAS];
    const allowed = request.apiKey.models?.length ? request.apiKey.models : served;
    return { object: 'list', data: served.filter((id) => allowed.includes(id)).map((id) => ({ id, object: 'model', created: 0, owned_by: 'aip' })) };
  }

  @Post('chat/completions')
  @HttpCode(200)
  async complete(@Req() request: AuthenticatedRequest, @Res() reply: FastifyReply, @Body() body: unknown, @Headers('idempotency-key') idempotencyKey?: string) {
    const chat = this.submissions.parseFor(request, body);
    // `n` answers are n generations, each a task of its own: admitted, run and billed like any
    // request, on whichever workers are free, and for every model (OpenAI counts the prompt once).
    const tasks = await Promise.all(Array.from({ length: chat.n ?? 1 }, (_, index) => this.submissions.submit(request.apiKey, chat, idempotencyKey, index)));
    const closed = new AbortController();
    reply.raw.on('close', () => closed.abort());
    try {
      return await this.answer(request, reply, chat, tasks, closed.signal);
    } finally {
      // Answered, refused or gone: whatever the other answers' streams still wait for is not read.
      closed.abort();
    }
  }

  private async answer(request: AuthenticatedRequest, reply: FastifyReply, chat: ChatRequest, tasks: Task[], signal: AbortSignal) {
    const events = merged(tasks.map((task) => followTask(this.hub, task.id, { timeoutMs: this.env.SYNC_TIMEOUT_MS, signal })));
    const filter = this.moderation.filter;
    const choices = tasks.map(() => new Choice(filter));
    let limits: RunningLimits | undefined;
    const first = tasks[0]!;
    const id = `chatcmpl-${first.id}`;
    const created = Math.floor(first.createdAt / 1_000);
    const taskIds = tasks.map((task) => task.id).join(', ');
    const usage = (done: DoneEvent[]) => openAiUsage(totalUsage(done.map((event) => event.usage)));
    // The first answer's facts stand for the response's (they come from the same request and routing).
    const extras = (done: DoneEvent) => ({ ...(done.systemFingerprint ? { system_fingerprint: done.systemFingerprint } : {}), ...(done.sources ? { sources: done.sources } : {}) });

    if (!chat.stream) {
      for await (const { index, stored: { event } } of events) {
        const choice = choices[index]!;
        if (event.type === 'delta') choice.delta(event);
        else if (event.type === 'status') limits = event.limits ?? limits;
        else if (event.type === 'tool_call') choice.toolCalls.fragment(event);
        else if (event.type === 'restart') choice.restart();
        else if (event.type === 'error') throw errorFor(event);
        else if (event.type === 'done') choice.done = event;
      }
      const done = finished(choices);
      if (!done) throw new ApiError(504, 'The request did not finish in time.', 'api_error', 'timeout');
      for (const [name, value] of Object.entries({ 'x-request-id': String(request.id), 'x-task-id': taskIds, ...rateLimitHeaders(limits) })) reply.header(name, value);
      return reply.send({
        id,
        object: 'chat.completion',
        created,
        model: chat.model,
        choices: choices.map((choice, index) => ({ index, message: choice.message(), finish_reason: done[index]!.finishReason, logprobs: chat.logprobs ? { content: choice.tokens, refusal: null } : null })),
        usage: usage(done),
        ...extras(done[0]!),
      } satisfies ChatCompletion);
    }

    // Headers wait for the first event, so a rejection is still a real 429 and not an SSE error.
    const chunk = (index: number, delta: Record<string, unknown>, finishReason: string | null = null, extra: Record<string, unknown> = {}, logprobs: ChoiceLogprobs = null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: chat.model, choices: [{ index, delta, finish_reason: finishReason, logprobs }], ...extra })}\n\n`;
    let started = false;
    // With words on the list, a call's arguments are masked as JSON (string values only) once the
    // call is whole, so they are held until `done`; without a list they stream as they come.
    const holdArguments = filter.size > 0;
    const start = () => {
      if (started) return;
      started = true;
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': String(request.id), 'x-task-id': taskIds, ...rateLimitHeaders(limits) });
      choices.forEach((_, index) => reply.raw.write(chunk(index, { role: 'assistant', content: '' })));
    };
    for await (const { index, stored: { event } } of events) {
      const choice = choices[index]!;
      if (event.type === 'error') {
        if (!started) throw errorFor(event);
        reply.raw.write(`data: ${JSON.stringify({ error: { message: event.message, type: 'api_error', code: event.code } })}\n\n`);
        break;
      }
      if (event.type === 'restart') {
        // Text can be resumed past what the client has; a half-sent tool call cannot (the new run
        // may call another function): the client is told to retry.
        if (choice.toolCalls.started) {
          reply.raw.write(`data: ${JSON.stringify({ error: { message: 'The worker generating this answer stopped during a tool call; retry the request.', type: 'api_error', code: 'worker_restarted' } })}\n\n`);
          break;
        }
        choice.restart();
        continue;
      }
      if (event.type === 'status') {
        limits = event.limits ?? limits;
        continue;
      }
      start();
      if (event.type === 'delta') {
        // Masked across chunk boundaries: a word split over two deltas is still caught. With
        // logprobs asked for nothing is masked (refused at submission otherwise): text and tokens go together.
        const text = choice.masker.push(choice.answer.delta(event.text));
        if (text || event.logprobs) reply.raw.write(chunk(index, { content: text }, null, {}, chat.logprobs ? { content: event.logprobs ?? [], refusal: null } : null));
      } else if (event.type === 'tool_call') {
        const fresh = choice.toolCalls.fragment(event);
        const shown = fresh && holdArguments ? { ...fresh, function: { ...fresh.function, arguments: '' } } : fresh;
        if (shown && (shown.id || shown.function.arguments)) reply.raw.write(chunk(index, { tool_calls: [shown] }));
      } else if (event.type === 'done') {
        choice.done = event;
        const rest = choice.masker.end();
        if (rest) reply.raw.write(chunk(index, { content: rest }));
        if (holdArguments) {
          choice.toolCalls.calls.forEach((call, position) => {
            const masked = filter.maskJson(call.function.arguments);
            if (masked) reply.raw.write(chunk(index, { tool_calls: [{ index: position, function: { arguments: masked } }] }));
          });
        }
        if (event.refusal) reply.raw.write(chunk(index, { refusal: filter.mask(event.refusal) }));
        // Extension field, like the non-streaming response: the passages the answer cites.
        reply.raw.write(chunk(index, {}, event.finishReason, extras(event)));
      }
    }
    if (!started) throw new ApiError(504, 'The request did not start in time.', 'api_error', 'timeout');
    const done = finished(choices);
    // Only on request, as OpenAI does: the common loop `chunk.choices[0].delta` throws on a chunk without choices.
    if (chat.stream_options?.include_usage && done) {
      const { system_fingerprint: fingerprint } = extras(done[0]!);
      reply.raw.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: chat.model, choices: [], usage: usage(done), ...(fingerprint ? { system_fingerprint: fingerprint } : {}) })}\n\n`);
    }
    reply.raw.end('data: [DONE]\n\n');
  }
}

