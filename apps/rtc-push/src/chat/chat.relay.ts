import { randomUUID } from 'node:crypto';
import { admitChat, CHAT_ERROR_CODES, StreamMasker, type ModelCatalog, type Moderation } from '@aip/chat-policy';
import type { ChatFrame, EventData, ServerFrame } from '@aip/contracts';
import { estimateTokens } from '@aip/llm';
import { PublishError, type EventPublisher } from '@aip/messaging';
import type { AdmissionFastPath } from '@aip/rate-limit';
import { appMetrics } from '@aip/runtime';
import type { ConversationStore, TaskEventHub, TaskStore } from '@aip/tasks';
import type { Identity } from '../auth/authenticator.ts';

export interface ChatRelayOptions {
  defaultModel: string;
  defaultMaxTokens: number;
  admissionDeadlineMs: number;
  timeoutMs: number;
}

/** What a chat must pass, shared with access (@aip/chat-policy) and kept current from the run-time documents. */
export interface ChatRelayPolicy {
  /** The served models: the `routing` document's aliases (`MODELS` until there is one). */
  catalog: ModelCatalog;
  /** The `words` document: requests blocked or masked, answers masked. */
  moderation: Moderation;
  /** Who owns which session: a user continues only their own conversations (as on access). */
  sessions: Pick<ConversationStore, 'claim'>;
}

/**
 * Chat over the realtime edge, through the platform's request path exactly like access: the same
 * checks with the same error codes (served model, allowed model, sensitive words), create the task
 * (`queued`), admit it at once or hand it to the limiter (`ai.request.admitted` or
 * `ai.request.submitted`, the same fast path as access), then relay the task's Redis event stream as
 * `delta`/`sources`/`done`/`error` frames carrying the client's `ref`, the answer masked as access
 * masks it.
 */
export class ChatRelay {
  constructor(
    private readonly tasks: TaskStore,
    private readonly hub: TaskEventHub,
    private readonly publisher: EventPublisher,
    private readonly fastPath: AdmissionFastPath,
    private readonly policy: ChatRelayPolicy,
    private readonly options: ChatRelayOptions,
  ) {}

  /** Runs one chat to its end; `send` writes a frame (false = the connection is gone). Never throws. */
  async run(identity: Identity, frame: ChatFrame, send: (frame: ServerFrame) => boolean, signal: AbortSignal): Promise<'done' | 'error' | 'aborted'> {
    const { ref } = frame;
    const fail = (code: string, message: string, extra: { taskId?: string; retryAfterMs?: number } = {}) => (send({ type: 'error', code, message, ref, ...extra }), 'error' as const);
    const model = frame.model ?? this.options.defaultModel;
    // A realtime token (a browser user) gets less than its key: its grant's models, no system prompt, a max-tokens cap.
    const grant = identity.via === 'token' ? identity.grant : undefined;
    const admission = admitChat(
      { model, messages: frame.messages ?? [{ role: 'user' as const, content: frame.text! }] },
      { ...this.policy, keyModels: identity.key.models, tokenModels: grant?.models, allowSystem: identity.via !== 'token' },
    );
    if (!admission.ok) return fail(admission.refusal.code, admission.refusal.message);
    const { messages } = admission;
    const taskId = randomUUID();
    if (frame.sessionId) {
      // Linked to its task in the same step: deleting the conversation erases the task too (ADR 0029).
      const owned = await this.policy.sessions.claim(identity.tenantId, frame.sessionId, `user:${identity.userId}`, { link: `task:${taskId}` }).catch(() => undefined);
      if (owned === undefined) return fail(CHAT_ERROR_CODES.unavailable, 'storage (Redis) is unavailable; retry later');
      if (!owned) return fail('session_not_owned', 'This session belongs to another user of this tenant; start a new session.');
    }
    const acceptedAt = Date.now();
    try {
      await this.tasks.create({ id: taskId, tenantId: identity.tenantId, keyId: identity.key.id, model, stream: true, ...(frame.sessionId ? { sessionId: frame.sessionId } : {}) });
      const submitted: EventData<'ai.request.submitted'> = {
      taskId,
      apiKeyId: identity.key.id,
      ...(identity.key.subAccount ? { subAccount: identity.key.subAccount } : {}),
      ...(frame.sessionId ? { sessionId: frame.sessionId } : {}),
      userId: identity.userId,
      model,
      messages,
      maxTokens: Math.min(frame.maxTokens ?? this.options.defaultMaxTokens, grant?.maxTokens ?? Number.POSITIVE_INFINITY),
      ...(frame.temperature !== undefined ? { temperature: frame.temperature } : {}),
      stream: true,
      priority: 5,
      deadline: new Date(Date.now() + this.options.admissionDeadlineMs).toISOString(),
      estimatedPromptTokens: estimateTokens(messages),
      ...(identity.key.profile && Object.keys(identity.key.profile).length > 0 ? { metadata: identity.key.profile } : {}),
      };
      // Admitted at once when the limits allow (one hop to the workers, ADR 0025); else the limiter's to decide.
      const outcome = await this.fastPath.admit(identity.key, submitted, acceptedAt, (data, lane) => this.publisher.publish('ai.request.admitted', data, { tenantId: identity.tenantId, ...(lane !== undefined ? { lane } : {}) }));
      appMetrics.admissions.inc({ path: outcome.admitted ? 'direct' : 'handed_over', reason: outcome.reason });
      if (!outcome.admitted) await this.publisher.publish('ai.request.submitted', submitted, { tenantId: identity.tenantId });
    } catch (error) {
      await this.tasks.finish(taskId, 'failed', { error: { code: 'broker_unavailable', message: 'could not submit the request' } }, { type: 'error', code: 'broker_unavailable', message: 'could not submit the request', status: 503 }).catch(() => undefined);
      return fail(CHAT_ERROR_CODES.unavailable, error instanceof PublishError ? 'the message broker is unavailable; retry later' : 'could not submit the request', { taskId });
    }
    if (!send({ type: 'accepted', ref, taskId })) return 'aborted';

    const stop = AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]);
    // Masked across delta boundaries; the masker holds back a few characters until the next delta.
    let masker = new StreamMasker(this.policy.moderation.filter);
    let restarted = false;
    /** Sends masked text; a pending reset goes with the first text after it (or alone at the end). */
    const relay = (text: string, final = false) => {
      if (!text && !(final && restarted)) return true;
      const sent = send({ type: 'delta', ref, taskId, text, ...(restarted ? { reset: true } : {}) });
      restarted = false;
      return sent;
    };
    try {
      for await (const { event } of this.hub.follow(taskId, '0', stop)) {
        switch (event.type) {
          case 'delta':
            if (!relay(masker.push(event.text))) return 'aborted';
            break;
          case 'restart':
            // The generation starts over: what the masker held back belongs to the discarded text.
            masker = new StreamMasker(this.policy.moderation.filter);
            restarted = true;
            break;
          case 'done':
            if (!relay(masker.end(), true)) return 'aborted';
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
      return fail(CHAT_ERROR_CODES.unavailable, 'lost the answer stream; fetch the task by id or retry later', { taskId });
    }
    if (signal.aborted) return 'aborted';
    return fail('timeout', `no answer within ${this.options.timeoutMs} ms`, { taskId });
  }
}
