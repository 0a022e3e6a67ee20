import { randomUUID } from 'node:crypto';
import type { ChatFrame, ServerFrame } from '@aip/contracts';
import { estimateTokens } from '@aip/llm';
import { PublishError, type EventPublisher } from '@aip/messaging';
import type { TaskEventHub, TaskStore } from '@aip/tasks';
import type { Identity } from '../auth/authenticator.ts';

export interface ChatRelayOptions {
  models: readonly string[];
  defaultModel: string;
  defaultMaxTokens: number;
  admissionDeadlineMs: number;
  timeoutMs: number;
}

/**
 * Chat over the realtime edge, through the platform's request path exactly like access: create
 * the task (`queued`), publish `ai.request.submitted`, then relay the task's Redis event stream as
 * `delta`/`sources`/`done`/`error` frames carrying the client's `ref`.
 */
export class ChatRelay {
  constructor(
    private readonly tasks: TaskStore,
    private readonly hub: TaskEventHub,
    private readonly publisher: EventPublisher,
    private readonly options: ChatRelayOptions,
  ) {}

  /** Runs one chat to its end; `send` writes a frame (false = the connection is gone). Never throws. */
  async run(identity: Identity, frame: ChatFrame, send: (frame: ServerFrame) => boolean, signal: AbortSignal): Promise<'done' | 'error' | 'aborted'> {
    const { ref } = frame;
    const fail = (code: string, message: string, extra: { taskId?: string; retryAfterMs?: number } = {}) => (send({ type: 'error', code, message, ref, ...extra }), 'error' as const);
    const model = frame.model ?? this.options.defaultModel;
    if (!this.options.models.includes(model)) return fail('unknown_model', `model "${model}" is not served; available: ${this.options.models.join(', ')}`);
    if (identity.key.models?.length && !identity.key.models.includes(model)) return fail('forbidden_model', `this key may not use model "${model}"`);
    const messages = frame.messages ?? [{ role: 'user' as const, content: frame.text! }];
    const taskId = randomUUID();
    try {
      await this.tasks.create({ id: taskId, tenantId: identity.tenantId, keyId: identity.key.id, model, stream: true, ...(frame.sessionId ? { sessionId: frame.sessionId } : {}) });
      await this.publisher.publish(
        'ai.request.submitted',
        {
          taskId,
          apiKeyId: identity.key.id,
          ...(identity.key.subAccount ? { subAccount: identity.key.subAccount } : {}),
          ...(frame.sessionId ? { sessionId: frame.sessionId } : {}),
          userId: identity.userId,
          model,
          messages,
          maxTokens: frame.maxTokens ?? this.options.defaultMaxTokens,
          ...(frame.temperature !== undefined ? { temperature: frame.temperature } : {}),
          stream: true,
          priority: 5,
          deadline: new Date(Date.now() + this.options.admissionDeadlineMs).toISOString(),
          estimatedPromptTokens: estimateTokens(messages),
          ...(identity.key.profile && Object.keys(identity.key.profile).length > 0 ? { metadata: identity.key.profile } : {}),
        },
        { tenantId: identity.tenantId },
      );
    } catch (error) {
      await this.tasks.finish(taskId, 'failed', { error: { code: 'broker_unavailable', message: 'could not submit the request' } }, { type: 'error', code: 'broker_unavailable', message: 'could not submit the request', status: 503 }).catch(() => undefined);
      return fail('unavailable', error instanceof PublishError ? 'the message broker is unavailable; retry later' : 'could not submit the request', { taskId });
    }
    if (!send({ type: 'accepted', ref, taskId })) return 'aborted';

    const stop = AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]);
    let restarted = false;
    try {
      for await (const { event } of this.hub.follow(taskId, '0', stop)) {
        switch (event.type) {
          case 'delta':
            if (!send({ type: 'delta', ref, taskId, text: event.text, ...(restarted ? { reset: true } : {}) })) return 'aborted';
            restarted = false;
            break;
          case 'restart':
            restarted = true;
            break;
          case 'done':
            if (event.sources?.length) send({ type: 'sources', ref, taskId, sources: event.sources });
            send({ type: 'done', ref, taskId, finishReason: event.finishReason, model: event.model, usage: event.usage });
            return 'done';
          case 'error':
            return fail(event.code, event.message, { taskId, ...(event.retryAfterMs !== undefined ? { retryAfterMs: event.retryAfterMs } : {}) });
          case 'status':
            if (event.status === 'cancelled') return fail('cancelled', 'the request was cancelled', { taskId });
            break;
        }
      }
    } catch {
      // Redis went away while relaying: the task still runs; the client can fetch it by id.
      if (signal.aborted) return 'aborted';
      return fail('unavailable', 'lost the answer stream; fetch the task by id or retry later', { taskId });
    }
    if (signal.aborted) return 'aborted';
    return fail('timeout', `no answer within ${this.options.timeoutMs} ms`, { taskId });
  }
}
