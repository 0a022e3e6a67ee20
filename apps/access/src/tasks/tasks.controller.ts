import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, ENV, type AuthenticatedRequest } from '@aip/runtime';
import { compareStreamIds, isStreamId, TaskEventHub, TaskStore, TERMINAL_STATUSES, ToolCallAssembly, type Task } from '@aip/tasks';
import type { FastifyReply } from 'fastify';
import type { AccessEnv } from '../access.config.ts';
import { SubmissionService } from '../chat/submission.service.ts';
import { followTask, isFinalEvent } from '../chat/task-relay.ts';
import { errors } from '../common/errors.ts';
import { openAiUsage } from '../common/openai-usage.ts';
import { Moderation } from '../moderation/moderation.service.ts';
import { StreamMasker, type WordFilter } from '../moderation/word-filter.ts';
import type { TaskView } from './task-view.schema.ts';

function view(task: Task, words: WordFilter): TaskView {
  // Internal routing facts (which key record, which tenant, which worker) are not the client's.
  const { keyId: _keyId, tenantId: _tenantId, workerId: _workerId, usage, ...rest } = task;
  return {
    ...rest,
    ...(rest.result !== undefined ? { result: words.mask(rest.result) } : {}),
    ...(usage ? { usage: openAiUsage(usage) } : {}),
    ...(rest.toolCalls ? { toolCalls: rest.toolCalls.map((call) => ({ ...call, arguments: words.maskJson(call.arguments) })) } : {}),
    object: 'task',
    links: { self: `/v1/tasks/${task.id}`, events: `/v1/tasks/${task.id}/events` },
  };
}

/**
 * The async task API for slow models and polling clients. The same task model serves polling,
 * SSE (resumable with Last-Event-ID) and the OpenAI endpoint. Other tenants' tasks are 404.
 */
@Controller('v1/tasks')
@UseGuards(ApiKeyGuard)
export class TasksController {
  constructor(
    @Inject(SubmissionService) private readonly submissions: SubmissionService,
    @Inject(TaskStore) private readonly tasks: TaskStore,
    @Inject(TaskEventHub) private readonly hub: TaskEventHub,
    @Inject(ENV) private readonly env: AccessEnv,
    @Inject(Moderation) private readonly moderation: Moderation,
  ) {}

  @Post()
  @HttpCode(202)
  async create(@Req() request: AuthenticatedRequest, @Body() body: unknown, @Headers('idempotency-key') idempotencyKey?: string) {
    const chat = this.submissions.parseFor(request, body);
    // A task is one answer; `n` of them are n tasks (POST /v1/chat/completions makes them for you).
    if ((chat.n ?? 1) > 1) throw errors.invalid('A task holds one answer: send n tasks, or ask POST /v1/chat/completions for n answers.', 'n', 'unsupported_parameter');
    return view(await this.submissions.submit(request.apiKey, chat, idempotencyKey), this.moderation.filter);
  }

  @Get(':id')
  async get(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    const task = await this.tasks.getForTenant(id, request.apiKey.tenantId);
    if (!task) throw errors.taskNotFound();
    return view(task, this.moderation.filter);
  }

  @Delete(':id')
  @HttpCode(202)
  async cancel(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    const task = await this.tasks.getForTenant(id, request.apiKey.tenantId);
    if (!task) throw errors.taskNotFound();
    if (!TERMINAL_STATUSES.includes(task.status)) {
      await this.tasks.requestCancel(id);
      // Not yet picked up by a worker: cancel right here; a worker that takes it later sees the flag.
      if (task.status === 'queued') await this.tasks.finish(id, 'cancelled', {}, { type: 'status', status: 'cancelled' });
    }
    return view((await this.tasks.get(id)) ?? task, this.moderation.filter);
  }

  @Get(':id/events')
  async events(@Req() request: AuthenticatedRequest, @Res() reply: FastifyReply, @Param('id') id: string, @Headers('last-event-id') lastEventId?: string) {
    const task = await this.tasks.getForTenant(id, request.apiKey.tenantId);
    if (!task) throw errors.taskNotFound();
    const { cursor, ended } = await this.resumeCursor(id, lastEventId);
    const closed = new AbortController();
    reply.raw.on('close', () => closed.abort());
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': String(request.id) });
    // The client learns at once that the stream is open, even when the next event is minutes away.
    reply.raw.flushHeaders();
    const masker = new StreamMasker(this.moderation.filter);
    // With words on the list, tool calls are masked as JSON once whole: held until `done`, then one
    // event per call (without an id: resuming replays the fragments and holds them again).
    const heldCalls = this.moderation.filter.size > 0 ? new ToolCallAssembly() : undefined;
    const events = ended ? [] : followTask(this.hub, id, { afterId: cursor, timeoutMs: this.env.SYNC_TIMEOUT_MS, signal: closed.signal });
    for await (const { id: eventId, event } of events) {
      if (event.type === 'tool_call' && heldCalls) {
        heldCalls.add(event);
        continue;
      }
      if (event.type === 'restart') heldCalls?.reset();
      // Held-back text of a masked delta goes out with the next event; a resumed stream starts afresh.
      const shown = event.type === 'delta' ? { ...event, text: masker.push(event.text) } : event.type === 'done' ? { ...event, usage: openAiUsage(event.usage) } : event;
      if (event.type === 'done') {
        const rest = masker.end();
        if (rest) reply.raw.write(`event: delta\ndata: ${JSON.stringify({ type: 'delta', text: rest })}\n\n`);
        heldCalls?.calls().forEach((call, index) => {
          const whole = { type: 'tool_call', index, ...call, arguments: this.moderation.filter.maskJson(call.arguments) };
          reply.raw.write(`event: tool_call\ndata: ${JSON.stringify(whole)}\n\n`);
        });
      }
      reply.raw.write(`id: ${eventId}\nevent: ${event.type}\ndata: ${JSON.stringify(shown)}\n\n`);
    }
    reply.raw.end();
  }

  /**
   * Where a resumed stream starts: after the `Last-Event-ID` the client was sent (`ended` when that
   * was the task's final event), or at the start. An id this stream never gave out — malformed, or
   * after its newest event — is a 400: following it would wait for events that never come.
   */
  private async resumeCursor(taskId: string, lastEventId: string | undefined): Promise<{ cursor: string; ended: boolean }> {
    if (!lastEventId) return { cursor: '0', ended: false };
    const refused = (why: string) => errors.invalid(`Last-Event-ID ${why}; send the id of an event received from this stream, or none to start over.`, 'Last-Event-ID', 'invalid_last_event_id');
    if (!isStreamId(lastEventId)) throw refused('is not an event id (<ms>-<n>, each at most 2^64 - 1)');
    const newest = await this.tasks.newestEvent(taskId);
    if (newest === undefined || compareStreamIds(lastEventId, newest.id) > 0) throw refused('is after the newest event of this task');
    return { cursor: lastEventId, ended: compareStreamIds(lastEventId, newest.id) === 0 && isFinalEvent(newest) };
  }
}
