import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import type { Envelope } from '@aip/contracts';
import { RocketMQEvent } from '@aip/messaging';
import { ENV } from '@aip/runtime';
import type { IntentSchedulerEnv } from '../intent-scheduler.config.ts';
import { ActivityStore } from '../state/activity.store.ts';
import { UserStateStore } from '../state/user-state.store.ts';
import { NewContentNotifier } from './new-content.notifier.ts';

/** The event's time, never in the future: a producer whose clock runs ahead must not postpone pushes. */
const eventTime = (time: string) => Math.min(Date.parse(time), Date.now());

/**
 * What the scheduler consumes, in the app's group `intent-scheduler`: `ai-request` and
 * `ai-lifecycle` (session activity), `kb-lifecycle` (new content) and `user-profile` (profiles: interests; deleted conversations). Thin: each handler records
 * one fact or hands the event to one service.
 */
@Controller()
export class ActivityConsumer {
  constructor(
    @Inject(ActivityStore) private readonly activity: ActivityStore,
    @Inject(NewContentNotifier) private readonly notifier: NewContentNotifier,
    @Inject(UserStateStore) private readonly users: UserStateStore,
    @Inject(ENV) private readonly env: IntentSchedulerEnv,
  ) {}

  // The user spoke: no push to this session until the answer is done and the grace has passed.
  // A request that waits for admission is seen when it is submitted; one that access admits at
  // once (ADR 0025) is never submitted, and is seen when a worker starts it. Both may arrive for
  // one request: the second changes nothing that matters.
  @RocketMQEvent('ai.request.submitted', { concurrency: 32 })
  async onSubmitted(@Payload() event: Envelope<'ai.request.submitted'>) {
    await this.userSpoke(event);
  }

  @RocketMQEvent('ai.inference.started', { concurrency: 32 })
  async onStarted(@Payload() event: Envelope<'ai.inference.started'>) {
    await this.userSpoke(event);
  }

  @RocketMQEvent('ai.inference.completed', { concurrency: 32 })
  async onCompleted(@Payload() event: Envelope<'ai.inference.completed'>) {
    const { sessionId, userId, taskId } = event.data;
    // Without a user there is nobody to push to; without a session there is no conversation.
    if (!sessionId || !userId) return;
    await this.activity.answered({ tenantId: event.tenantId, sessionId, userId }, taskId, eventTime(event.time));
  }

  private async userSpoke(event: Envelope<'ai.request.submitted' | 'ai.inference.started'>) {
    const { sessionId, userId, taskId } = event.data;
    if (!sessionId) return;
    await this.activity.userSpoke({ tenantId: event.tenantId, sessionId, userId }, taskId, eventTime(event.time), this.env.INTENT_PENDING_MAX_MS);
  }

  // The interests a user declares in their profile count like those heard in their conversations
  // (new-content notices); recorded again on every change, they last as long as those do.
  @RocketMQEvent('user.profile.updated', { concurrency: 4 })
  async onProfileUpdated(@Payload() event: Envelope<'user.profile.updated'>) {
    const { userId, profile } = event.data;
    await this.users.recordInterests(event.tenantId, userId, profile.interests ?? [], eventTime(event.time), this.env.INTENT_INTEREST_TTL_MS);
  }

  // Erasure: nothing the scheduler knows of the user's interests stays.
  @RocketMQEvent('user.profile.deleted', { concurrency: 4 })
  async onProfileDeleted(@Payload() event: Envelope<'user.profile.deleted'>) {
    await this.users.forgetInterests(event.tenantId, event.data.userId);
  }

  // A deleted conversation leaves nothing behind: no prompt about it is analysed or pushed.
  @RocketMQEvent('conversation.deleted', { concurrency: 4 })
  async onConversationDeleted(@Payload() event: Envelope<'conversation.deleted'>) {
    await this.activity.deleteSession({ tenantId: event.tenantId, sessionId: event.data.conversationId, userId: event.data.userId });
  }

  @RocketMQEvent('kb.document.indexed', { concurrency: 4 })
  async onIndexed(@Payload() event: Envelope<'kb.document.indexed'>) {
    await this.notifier.onIndexed(event);
  }
}
