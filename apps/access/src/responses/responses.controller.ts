import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { StreamMasker } from '@aip/chat-policy';
import { ApiError, ApiKeyGuard, ENV, parseRequest, type AuthenticatedRequest } from '@aip/runtime';
import { ConversationStore, TaskEventHub, TaskStore, TERMINAL_STATUSES, type RunningLimits, type Task, type TaskEvent } from '@aip/tasks';
import type { FastifyReply } from 'fastify';
import type { AccessEnv } from '../access.config.ts';
import { SubmissionService } from '../chat/submission.service.ts';
import { AnswerText, AnswerToolCalls, followTask } from '../chat/task-relay.ts';
import { rateLimitHeaders } from '../common/rate-limit-headers.ts';
import { actingFor, mayAccess, type Acting } from '../common/acting-user.ts';
import { errorFor } from '../common/task-error.ts';
import { conversationNotFound } from '../conversations/conversations.controller.ts';
import { Moderation } from '../moderation/moderation.service.ts';
import { responseRequestSchema, retrieveQuerySchema, unsupportedCombination, type ResponseRequest } from './response-request.schema.ts';
import { answerMessage, chatBodyOf, endingOf, functionCallItem, messageItem, messagesOf, outputItemsOf, responseUsage, type AnsweredCall, type ChatWireMessage } from './response-items.ts';
import { ResponseStore, type ResponseMeta, type StoredResponse } from './response.store.ts';

type DoneEvent = Extract<TaskEvent, { type: 'done' }>;

const notFound = (id: string) => new ApiError(404, `No response with id '${id}' found.`, 'invalid_request_error', 'response_not_found', 'id');

/**
 * OpenAI's Responses API on the platform's task model (issue 15): a response is a chat request
 * built from the stored conversation (`previous_response_id`) and the new input, admitted, run and
 * billed like any other, on every model the routing serves — the platform keeps the state, the
 * providers get chat completions. Streams OpenAI's semantic events (`response.created`,
 * `response.output_text.delta`, function-call events, `response.completed` / `response.failed`,
 * each with its `sequence_number`). Responses are the tenant's: another tenant's id is a 404.
 */
@Controller('v1/responses')
@UseGuards(ApiKeyGuard)
export class ResponsesController {
  constructor(
    @Inject(SubmissionService) private readonly submissions: SubmissionService,
    @Inject(TaskEventHub) private readonly hub: TaskEventHub,
    @Inject(TaskStore) private readonly tasks: TaskStore,
    @Inject(ResponseStore) private readonly responses: ResponseStore,
    @Inject(ENV) private readonly env: AccessEnv,
    @Inject(Moderation) private readonly moderation: Moderation,
    @Inject(ConversationStore) private readonly conversations: ConversationStore,
  ) {}

  /** A stored response the caller may see: its owner's (404 for anyone else, as for one that does not exist). */
  private async owned(request: AuthenticatedRequest, id: string, acting: Acting = actingFor(request)): Promise<StoredResponse | undefined> {
    const stored = await this.responses.get(acting.tenantId, id);
    return stored && mayAccess(request, acting, stored.owner) ? stored : undefined;
  }

  @Post()
  @HttpCode(200)
  async create(@Req() request: AuthenticatedRequest, @Res() reply: FastifyReply, @Body() body: unknown) {
    const input = parseRequest(responseRequestSchema, body);
    const unsupported = unsupportedCombination(input);
    if (unsupported) throw new ApiError(400, unsupported.message, 'invalid_request_error', 'unsupported_parameter', unsupported.param);
    const acting = actingFor(request, input.safety_identifier ?? input.user);
    const { tenantId } = acting;
    let history: ChatWireMessage[] = [];
    const conversationId = typeof input.conversation === 'string' ? input.conversation : input.conversation?.id;
    if (conversationId) {
      const conversation = await this.conversations.get(tenantId, conversationId);
      if (!conversation || conversation.owner !== acting.owner) throw conversationNotFound(conversationId, 'conversation');
    }
    if (input.previous_response_id) {
      const previous = await this.owned(request, input.previous_response_id, acting);
      if (!previous) throw new ApiError(404, `Previous response with id '${input.previous_response_id}' not found.`, 'invalid_request_error', 'previous_response_not_found', 'previous_response_id');
      const settled = await this.settled(tenantId, previous);
      if (!settled.final?.answer) throw new ApiError(400, `Previous response '${input.previous_response_id}' has not completed: continue from a completed response.`, 'invalid_request_error', 'previous_response_not_completed', 'previous_response_id');
      history = [...settled.history, ...settled.inputMessages, settled.final.answer];
    }
    const chat = this.submissions.parse(chatBodyOf(input, history, { user: acting.user, conversationId }));
    const task = await this.submissions.submit(request.apiKey, chat);
    const meta: ResponseMeta = { id: `resp_${task.id}`, createdAt: Math.floor(task.createdAt / 1_000), model: input.model, instructions: input.instructions ?? null, previousResponseId: input.previous_response_id ?? null, conversationId: conversationId ?? null, metadata: input.metadata ?? {} };
    const stored: StoredResponse | undefined = input.store === false ? undefined : { ...meta, taskId: task.id, owner: acting.owner, input: input.input, history, inputMessages: messagesOf(input.input), background: input.background ?? false };
    if (stored) {
      await this.responses.save(tenantId, stored);
      // Deleting the conversation deletes the responses made in it.
      if (conversationId) await this.conversations.link(tenantId, conversationId, `response:${stored.id}`);
    }
    // The task model's asynchronous form: the same durable path, answered at once, polled later
    // (or streamed now, and followed again with GET …?stream=true when the stream breaks).
    if (input.background && stored && !input.stream) {
      reply.header('x-request-id', String(request.id)).header('x-task-id', task.id);
      return reply.send(this.object(stored, 'queued', [], { background: true }));
    }
    const closed = new AbortController();
    reply.raw.on('close', () => closed.abort());
    try {
      return await this.answer(request, reply, input, task, meta, stored, closed.signal);
    } finally {
      closed.abort();
    }
  }

  /**
   * The stored response; with `stream=true`, its events from the start again, or after
   * `starting_after` (a sequence number): a client whose stream broke resumes where it was, a
   * background response is followed live. The events are made again from the task's stream, so
   * they are the same events with the same numbers.
   */
  @Get(':id')
  async get(@Req() request: AuthenticatedRequest, @Res() reply: FastifyReply, @Param('id') id: string, @Query() query: unknown) {
    const { stream, starting_after: startingAfter } = parseRequest(retrieveQuerySchema, query);
    const stored = await this.owned(request, id);
    if (!stored) throw notFound(id);
    if (stream === 'true') {
      const task = await this.tasks.getForTenant(stored.taskId, request.apiKey.tenantId);
      if (!task) throw new ApiError(404, `The events of response '${id}' are no longer kept; GET it without stream.`, 'invalid_request_error', 'response_events_expired', 'stream');
      const closed = new AbortController();
      reply.raw.on('close', () => closed.abort());
      try {
        return await this.answer(request, reply, { stream: true }, task, stored, stored, closed.signal, startingAfter ?? -1);
      } finally {
        closed.abort();
      }
    }
    const settled = await this.settled(request.apiKey.tenantId, stored);
    if (settled.final) return reply.send(settled.final.response);
    const task = await this.tasks.getForTenant(stored.taskId, request.apiKey.tenantId);
    return reply.send(this.object(stored, task?.status === 'running' ? 'in_progress' : 'queued', [], stored.background ? { background: true } : {}));
  }

  /** Cancels a response still running (a background one, or one whose client left): its task is cancelled. */
  @Post(':id/cancel')
  @HttpCode(200)
  async cancel(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    const { tenantId } = request.apiKey;
    const stored = await this.owned(request, id);
    if (!stored) throw notFound(id);
    const task = await this.tasks.getForTenant(stored.taskId, tenantId);
    if (task && !TERMINAL_STATUSES.includes(task.status)) {
      await this.tasks.requestCancel(task.id);
      // Not picked up by a worker yet: cancelled here; a worker that takes it later sees the flag.
      if (task.status === 'queued') await this.tasks.finish(task.id, 'cancelled', {}, { type: 'status', status: 'cancelled' });
    }
    const settled = await this.settled(tenantId, stored);
    return settled.final?.response ?? this.object(stored, 'in_progress', [], { background: stored.background ?? false });
  }

  /**
   * The stored response with its end, once its task has one: a background response, or one whose
   * client left before the end, is settled from the task (and kept so) the first time it is read.
   */
  private async settled(tenantId: string, stored: StoredResponse): Promise<StoredResponse> {
    if (stored.final) return stored;
    const task = await this.tasks.getForTenant(stored.taskId, tenantId);
    if (!task || !TERMINAL_STATUSES.includes(task.status)) {
      // The task expired before anyone read its end: nothing more will come.
      return task ? stored : { ...stored, final: { response: this.object(stored, 'failed', [], { error: { code: 'expired', message: 'The response expired before it was read.' } }), answer: null } };
    }
    const filter = this.moderation.filter;
    const text = filter.mask(task.result ?? '');
    const calls = (task.toolCalls ?? []).map((call) => ({ ...call, arguments: filter.maskJson(call.arguments) }));
    const { status, ...ending } = task.status === 'completed' ? endingOf(task.finishReason) : { status: task.status === 'cancelled' ? 'cancelled' : 'failed' };
    const response = this.object(stored, status, task.status === 'completed' ? outputItemsOf(stored.id, text, calls) : [], {
      ...(task.usage ? { usage: responseUsage(task.usage) } : {}),
      ...(task.error ? { error: { code: task.error.code, message: task.error.message } } : {}),
      ...ending,
      ...(stored.background ? { background: true } : {}),
    });
    const settled = { ...stored, final: { response, answer: task.status === 'completed' ? answerMessage(text, calls) : null } };
    await this.responses.save(tenantId, settled);
    return settled;
  }

  @Delete(':id')
  async delete(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    if (!(await this.owned(request, id)) || !(await this.responses.delete(request.apiKey.tenantId, id))) throw notFound(id);
    return { id, object: 'response.deleted', deleted: true };
  }

  @Get(':id/input_items')
  async inputItems(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    const stored = await this.owned(request, id);
    if (!stored) throw notFound(id);
    const items = (typeof stored.input === 'string' ? [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: stored.input }] }] : stored.input).map((item, index) => ({ id: `in_${stored.taskId}_${index}`, ...item }));
    return { object: 'list', data: items, first_id: items[0]?.id ?? null, last_id: items.at(-1)?.id ?? null, has_more: false };
  }

  /** The response object, OpenAI's shape, with what this request asked for. */
  private object(stored: ResponseMeta, status: string, output: unknown[], extra: Record<string, unknown> = {}) {
    return {
      id: stored.id,
      object: 'response',
      created_at: stored.createdAt,
      status,
      model: stored.model,
      output,
      instructions: stored.instructions,
      previous_response_id: stored.previousResponseId,
      conversation: stored.conversationId ? { id: stored.conversationId } : null,
      metadata: stored.metadata,
      error: null,
      incomplete_details: null,
      usage: null,
      ...extra,
    };
  }

  private async answer(request: AuthenticatedRequest, reply: FastifyReply, input: Pick<ResponseRequest, 'stream'>, task: Task, meta: ResponseMeta, stored: StoredResponse | undefined, signal: AbortSignal, startingAfter = -1) {
    const { id } = meta;
    const background = stored?.background ? { background: true } : {};
    const filter = this.moderation.filter;
    const answer = new AnswerText();
    const toolCalls = new AnswerToolCalls();
    let limits: RunningLimits | undefined;
    const calls = (): AnsweredCall[] => toolCalls.calls.map((call) => ({ id: call.id, name: call.function.name, arguments: filter.maskJson(call.function.arguments) }));
    /** The response once its task is done, kept when stored. */
    const finish = async (done: DoneEvent) => {
      const text = filter.mask(answer.text);
      const answered = calls();
      const { status, ...ending } = endingOf(done.finishReason);
      const response = this.object(meta, status, outputItemsOf(id, text, answered), { usage: responseUsage(done.usage), ...ending, ...background });
      if (stored) await this.responses.save(request.apiKey.tenantId, { ...stored, final: { response, answer: answerMessage(text, answered) } });
      return response;
    };
    const events = followTask(this.hub, task.id, { timeoutMs: this.env.SYNC_TIMEOUT_MS, signal });

    if (!input.stream) {
      for await (const { event } of events) {
        if (event.type === 'delta') answer.delta(event.text);
        else if (event.type === 'status') limits = event.limits ?? limits;
        else if (event.type === 'tool_call') toolCalls.fragment(event);
        else if (event.type === 'restart') {
          answer.restart();
          toolCalls.restart();
        } else if (event.type === 'error') throw errorFor(event);
        else if (event.type === 'done') {
          for (const [name, value] of Object.entries({ 'x-request-id': String(request.id), 'x-task-id': task.id, ...rateLimitHeaders(limits) })) reply.header(name, value);
          return reply.send(await finish(event));
        }
      }
      throw new ApiError(504, 'The request did not finish in time.', 'api_error', 'timeout');
    }

    // OpenAI's semantic events, numbered; headers wait for the first event, so a refusal is still a real HTTP error.
    let sequence = 0;
    // Numbered from the task's first event on every read: a resumed stream skips what it had.
    const send = (type: string, payload: Record<string, unknown>) => {
      const number = sequence++;
      if (number > startingAfter) reply.raw.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: number, ...payload })}\n\n`);
    };
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': String(request.id), 'x-task-id': task.id, ...rateLimitHeaders(limits) });
      const created = this.object(meta, 'in_progress', [], background);
      send('response.created', { response: created });
      send('response.in_progress', { response: created });
    };
    const masker = new StreamMasker(filter);
    // With words on the list, a call's arguments are masked as JSON once whole: sent at its end.
    const holdArguments = filter.size > 0;
    let nextIndex = 0;
    let message: { index: number; id: string } | undefined;
    const callIndexes = new Map<number, number>();
    const openMessage = () => {
      if (message) return message;
      message = { index: nextIndex++, id: messageItem(id, '', 'in_progress').id };
      send('response.output_item.added', { output_index: message.index, item: messageItem(id, '', 'in_progress') });
      send('response.content_part.added', { item_id: message.id, output_index: message.index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      return message;
    };
    for await (const { event } of events) {
      if (event.type === 'error') {
        if (!started) throw errorFor(event);
        send('response.failed', { response: this.object(meta, 'failed', [], { error: { code: event.code, message: event.message } }) });
        break;
      }
      if (event.type === 'restart') {
        if (toolCalls.started) {
          send('response.failed', { response: this.object(meta, 'failed', [], { error: { code: 'worker_restarted', message: 'The worker generating this answer stopped during a tool call; retry the request.' } }) });
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
        const text = masker.push(answer.delta(event.text));
        if (text) {
          const { index, id: itemId } = openMessage();
          send('response.output_text.delta', { item_id: itemId, output_index: index, content_index: 0, delta: text });
        }
      } else if (event.type === 'tool_call') {
        const fresh = toolCalls.fragment(event);
        if (!fresh) continue;
        if (fresh.id) {
          callIndexes.set(fresh.index, nextIndex);
          send('response.output_item.added', { output_index: nextIndex++, item: functionCallItem({ id: fresh.id, name: fresh.function.name ?? '', arguments: '' }, 'in_progress') });
        }
        const call = toolCalls.calls[fresh.index];
        if (!holdArguments && call && fresh.function.arguments) send('response.function_call_arguments.delta', { item_id: `fc_${call.id}`, output_index: callIndexes.get(fresh.index), delta: fresh.function.arguments });
      } else if (event.type === 'done') {
        const rest = masker.end();
        if (rest) {
          const { index, id: itemId } = openMessage();
          send('response.output_text.delta', { item_id: itemId, output_index: index, content_index: 0, delta: rest });
        }
        const response = await finish(event);
        // An answer of no text and no calls is still one (empty) message, as in the response object.
        if (!message && toolCalls.calls.length === 0) openMessage();
        if (message) {
          const text = filter.mask(answer.text);
          send('response.output_text.done', { item_id: message.id, output_index: message.index, content_index: 0, text });
          send('response.content_part.done', { item_id: message.id, output_index: message.index, content_index: 0, part: { type: 'output_text', text, annotations: [] } });
          send('response.output_item.done', { output_index: message.index, item: messageItem(id, text, 'completed') });
        }
        calls().forEach((call, position) => {
          const index = callIndexes.get(position) ?? nextIndex++;
          send('response.function_call_arguments.done', { item_id: `fc_${call.id}`, output_index: index, arguments: call.arguments });
          send('response.output_item.done', { output_index: index, item: functionCallItem(call, 'completed') });
        });
        send(response['status'] === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
      }
    }
    if (!started) throw new ApiError(504, 'The request did not start in time.', 'api_error', 'timeout');
    reply.raw.end();
  }
}
