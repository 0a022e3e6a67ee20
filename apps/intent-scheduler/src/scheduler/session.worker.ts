import type { Logger } from 'pino';
import { textTurnsOf, type ConversationStore } from '@aip/tasks';
import { analyse, type Candidate } from '../analysis/analyser.ts';
import type { IntentClassifier } from '../analysis/classifier.port.ts';
import type { Catalogue } from '@aip/contracts';
import type { SchedulerMetrics } from '../metrics/scheduler.metrics.ts';
import type { ShardLease } from '../sharding/shard-lock.ts';
import { LockLostError } from '../sharding/shard-runner.ts';
import type { ActivityStore, SessionRef, SessionState } from '../state/activity.store.ts';
import type { UserStateStore } from '../state/user-state.store.ts';
import type { PushDispatcher } from './push.dispatcher.ts';

export interface SessionWorkerOptions {
  /** At most this many recently active sessions, and this many sessions with due prompts, per shard and tick. */
  sessionsPerShard: number;
  recentTurns: number;
  interestTtlMs: number;
}

/**
 * The work of one shard: the sessions whose prompts are due (earliest first), then the recently
 * active ones; for each, (re)analyse the conversation when it changed, then decide every prompt
 * that is due. Prompts that are only postponed (answer streaming, user just spoke) or whose
 * publish failed stay for the next tick, behind the others that are due.
 */
export class SessionWorker {
  constructor(
    private readonly deps: {
      activity: Pick<ActivityStore, 'sessions' | 'due' | 'state' | 'saveCandidates' | 'forget'>;
      users: Pick<UserStateStore, 'recordInterests'>;
      conversations: Pick<ConversationStore, 'latest'>;
      classifier: () => IntentClassifier;
      catalogue: () => Catalogue;
      dispatcher: Pick<PushDispatcher, 'dispatch'>;
      metrics: SchedulerMetrics;
      logger: Logger;
      clock?: () => number;
    },
    private readonly options: SessionWorkerOptions,
  ) {}

  async work(shard: number, lease: ShardLease): Promise<void> {
    const now = (this.deps.clock ?? Date.now)();
    const { activity } = this.deps;
    const limit = this.options.sessionsPerShard;
    const sessions = new Map<string, SessionRef>();
    for (const ref of [...(await activity.due(shard, now, limit)), ...(await activity.sessions(shard, now, limit))]) {
      sessions.set(JSON.stringify([ref.tenantId, ref.sessionId]), ref);
    }
    for (const ref of sessions.values()) {
      // One session may take an LLM timeout and more: renew the lease before each, and stop as soon
      // as another replica owns the shard (both working it would double the model cost and race).
      if (!(await lease.check())) throw new LockLostError(`shard ${lease.shard}`);
      try {
        await this.session(ref, lease);
      } catch (error) {
        if (error instanceof LockLostError) throw error;
        this.deps.logger.warn({ tenantId: ref.tenantId, sessionId: ref.sessionId, err: String(error) }, 'session analysis failed; retried next tick');
      }
    }
  }

  private async session(ref: SessionRef, lease: ShardLease): Promise<void> {
    const { activity, dispatcher } = this.deps;
    const state = await activity.state(ref);
    if (!state) return activity.forget(ref);
    let candidates = state.candidates;
    if (state.analysedAt < state.lastActivityAt) {
      candidates = await this.analyse(state);
      // The analysis may have outlived the lease: a replica that took the shard since writes instead.
      if (!(await lease.check())) throw new LockLostError(`shard ${lease.shard}`);
      if (!(await activity.saveCandidates(ref, state.lastActivityAt, candidates))) return;
    }
    const now = (this.deps.clock ?? Date.now)();
    const due = candidates.filter((c) => c.dueAt <= now);
    if (due.length === 0) return;
    const catalogue = this.deps.catalogue();
    const keep = candidates.filter((c) => c.dueAt > now);
    for (const candidate of due) {
      const intent = catalogue.intents.find((i) => i.id === candidate.intent);
      if (!intent) continue; // removed from the catalogue since: its prompts go with it
      const decision = await dispatcher.dispatch(
        {
          kind: 'proactive',
          tenantId: ref.tenantId,
          userId: ref.userId,
          sessionId: ref.sessionId,
          intent: candidate.intent,
          subject: candidate.slots,
          text: candidate.text,
          cooldownMs: intent.cooldownMs,
          expiresAt: candidate.expiresAt,
          session: { pendingUntil: state.pendingUntil, lastUserAt: state.lastUserAt },
        },
        () => lease.check(),
      );
      if (decision.outcome === 'failed' && decision.reason === 'lock_lost') throw new LockLostError(`shard ${lease.shard}`);
      // Retried from now on, so a few long-postponed prompts cannot keep the others out of the batch.
      if (decision.outcome === 'deferred' || decision.outcome === 'failed') keep.push({ ...candidate, dueAt: now });
    }
    await activity.saveCandidates(ref, state.lastActivityAt, keep);
  }

  private async analyse(state: SessionState): Promise<Candidate[]> {
    const { conversations, users, metrics, logger } = this.deps;
    const catalogue = this.deps.catalogue();
    const classifier = this.deps.classifier();
    const turns = textTurnsOf(await conversations.latest(state.tenantId, state.sessionId, this.options.recentTurns));
    const outcome = await analyse(turns, state.lastActivityAt, catalogue, classifier);
    const fromWords = outcome.candidates.find((c) => catalogue.intents.find((i) => i.id === c.intent)?.trigger === 'user_turns');
    metrics.classifications.inc({ classifier: classifier.name, intent: fromWords?.intent ?? outcome.skipped[0]?.intent ?? 'none' });
    for (const skipped of outcome.skipped) metrics.decisions.inc({ intent: skipped.intent, outcome: 'suppressed', reason: skipped.reason });
    const interesting = fromWords ?? outcome.skipped[0];
    const intent = interesting && catalogue.intents.find((i) => i.id === interesting.intent);
    if (interesting && intent?.recordInterest) {
      const slots = 'slots' in interesting ? Object.values(interesting.slots) : [];
      await users.recordInterests(state.tenantId, state.userId, [intent.id, ...slots], state.lastActivityAt, this.options.interestTtlMs);
    }
    logger.debug({ tenantId: state.tenantId, sessionId: state.sessionId, candidates: outcome.candidates.map((c) => ({ intent: c.intent, score: c.score, dueAt: c.dueAt })) }, 'session analysed');
    return outcome.candidates;
  }
}
