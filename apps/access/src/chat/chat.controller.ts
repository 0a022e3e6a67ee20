import { Body, Controller, Get, Headers, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { StreamMasker } from '@aip/chat-policy';
import { ApiError, ApiKeyGuard, ENV, type AuthenticatedRequest } from '@aip/runtime';
import { TaskEventHub, type RunningLimits, type TaskEvent } from '@aip/tasks';
import type { FastifyReply } from 'fastify';
import type { AccessEnv } from '../access.config.ts';
import { openAiUsage } from '../common/openai-usage.ts';
import { rateLimitError, rateLimitHeaders } from '../common/rate-limit-headers.ts';
import { Moderation } from '../moderation/moderation.service.ts';
import { ModelCatalog } from '@aip/chat-policy';
import type { AssistantMessage, ChatCompletion, ChoiceLogprobs, ModelList } from './chat-response.schema.ts';
import { SubmissionService } from './submission.service.ts';
import { AnswerText, AnswerToolCalls, followTask } from './task-relay.ts';

type ErrorEvent = Extract<TaskEvent, { type: 'error' }>;

function errorFor(event: ErrorEvent): ApiError {
  if (event.status === 429) return rateLimitError(event);
  if (event.status === 404) return new ApiError(404, event.message, 'not_found_error', event.code, 'model');
  // The model cannot do what the request asks (tools for a retrieval-only model, …).
  if (event.status === 400) return new ApiError(400, event.message, 'invalid_request_error', event.code, null);
  if (event.status === 503) return new ApiError(503, event.message, 'service_unavailable', event.code);
  return new ApiError(502, event.message, 'api_error', event.code);
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
    const chat = this.submissions.parse(body);
    const task = await this.submissions.submit(request.apiKey, chat, idempotencyKey);
    const closed = new AbortController();
    reply.raw.on('close', () => closed.abort());
    const events = followTask(this.hub, task.id, { timeoutMs: this.env.SYNC_TIMEOUT_MS, signal: closed.signal });
    const answer = new AnswerText();
    const toolCalls = new AnswerToolCalls();
    // The tokens' log probabilities, when asked for (refused at submission while words are masked).
    let tokens: NonNullable<Extract<TaskEvent, { type: 'delta' }>['logprobs']> = [];
    let limits: RunningLimits | undefined;
    const id = `chatcmpl-${task.id}`;
    const created = Math.floor(task.createdAt / 1_000);

    if (!chat.stream) {
      for await (const { event } of events) {
        if (event.type === 'delta') {
          answer.delta(event.text);
          if (event.logprobs) tokens.push(...event.logprobs);
        } else if (event.type === 'status') limits = event.limits ?? limits;
        else if (event.type === 'tool_call') toolCalls.fragment(event);
        else if (event.type === 'restart') {
          answer.restart();
          toolCalls.restart();
          tokens = [];
        } else if (event.type === 'error') throw errorFor(event);
        else if (event.type === 'done') {
          // Words on the list are masked in the calls' arguments too (the JSON stays JSON: letters become '*').
          const calls = toolCalls.calls.map((call) => ({ ...call, function: { ...call.function, arguments: this.moderation.filter.maskJson(call.function.arguments) } }));
          // OpenAI's shape: an answer that only calls tools has `content: null`.
          const message: AssistantMessage = { role: 'assistant', content: calls.length > 0 && answer.text === '' ? null : this.moderation.filter.mask(answer.text), ...(calls.length > 0 ? { tool_calls: calls } : {}), refusal: event.refusal ? this.moderation.filter.mask(event.refusal) : null };
          for (const [name, value] of Object.entries({ 'x-request-id': String(request.id), 'x-task-id': task.id, ...rateLimitHeaders(limits) })) reply.header(name, value);
          return reply.send({
            id,
            object: 'chat.completion',
            created,
            model: chat.model,
            choices: [{ index: 0, message, finish_reason: event.finishReason, logprobs: chat.logprobs ? { content: tokens, refusal: null } : null }],
            usage: openAiUsage(event.usage),
            ...(event.systemFingerprint ? { system_fingerprint: event.systemFingerprint } : {}),
            ...(event.sources ? { sources: event.sources } : {}),
          } satisfies ChatCompletion);
        }
      }
      throw new ApiError(504, 'The request did not finish in time.', 'api_error', 'timeout');
    }

    // Headers wait for the first event, so a rejection is still a real 429 and not an SSE error.
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null, extra: Record<string, unknown> = {}, logprobs: ChoiceLogprobs = null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: chat.model, choices: [{ index: 0, delta, finish_reason: finishReason, logprobs }], ...extra })}\n\n`;
    let started = false;
    const masker = new StreamMasker(this.moderation.filter);
    // With words on the list, a call's arguments are masked as JSON (string values only) once the
    // call is whole, so they are held until `done`; without a list they stream as they come.
    const holdArguments = this.moderation.filter.size > 0;
    const start = () => {
      if (started) return;
      started = true;
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': String(request.id), 'x-task-id': task.id, ...rateLimitHeaders(limits) });
      reply.raw.write(chunk({ role: 'assistant', content: '' }));
    };
    for await (const { event } of events) {
      if (event.type === 'error') {
        if (!started) throw errorFor(event);
        reply.raw.write(`data: ${JSON.stringify({ error: { message: event.message, type: 'api_error', code: event.code } })}\n\n`);
        break;
      }
      if (event.type === 'restart') {
        // Text can be resumed past what the client has; a half-sent tool call cannot (the new run
        // may call another function): the client is told to retry.
        if (toolCalls.started) {
          reply.raw.write(`data: ${JSON.stringify({ error: { message: 'The worker generating this answer stopped during a tool call; retry the request.', type: 'api_error', code: 'worker_restarted' } })}\n\n`);
          break;
        }
        answer.restart();
        toolCalls.restart();
        continue;
      }
      if (event.type === 'status') {
        limits = event.limits ?? limits;
        continue;
      }
      start();
      if (event.type === 'delta') {
        // Masked across chunk boundaries: a word split over two deltas is still caught.
        const text = masker.push(answer.delta(event.text));
        // With logprobs asked for, nothing is masked (refused at submission otherwise): text and tokens go out together.
        if (text || event.logprobs) reply.raw.write(chunk({ content: text }, null, {}, chat.logprobs ? { content: event.logprobs ?? [], refusal: null } : null));
      } else if (event.type === 'tool_call') {
        const fresh = toolCalls.fragment(event);
        const shown = fresh && holdArguments ? { ...fresh, function: { ...fresh.function, arguments: '' } } : fresh;
        if (shown && (shown.id || shown.function.arguments)) reply.raw.write(chunk({ tool_calls: [shown] }));
      } else if (event.type === 'done') {
        const rest = masker.end();
        if (rest) reply.raw.write(chunk({ content: rest }));
        if (holdArguments) {
          toolCalls.calls.forEach((call, index) => {
            const masked = this.moderation.filter.maskJson(call.function.arguments);
            if (masked) reply.raw.write(chunk({ tool_calls: [{ index, function: { arguments: masked } }] }));
          });
        }
        if (event.refusal) reply.raw.write(chunk({ refusal: this.moderation.filter.mask(event.refusal) }));
        const fingerprint = event.systemFingerprint ? { system_fingerprint: event.systemFingerprint } : {};
        // Extension field, like the non-streaming response: the passages the answer cites.
        reply.raw.write(chunk({}, event.finishReason, { ...fingerprint, ...(event.sources ? { sources: event.sources } : {}) }));
        // Only on request, as OpenAI does: the common loop `chunk.choices[0].delta` throws on a chunk without choices.
        if (chat.stream_options?.include_usage) {
          reply.raw.write(
            `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: chat.model, choices: [], usage: openAiUsage(event.usage), ...fingerprint })}\n\n`,
          );
        }
      }
    }
    if (!started) throw new ApiError(504, 'The request did not start in time.', 'api_error', 'timeout');
    reply.raw.end('data: [DONE]\n\n');
  }
}

