import type { EventInput } from '@aip/contracts';
import type { Logger } from 'pino';
import type { Catalogue } from '@aip/contracts';
import type { SchedulerMetrics } from '../metrics/scheduler.metrics.ts';
import { effectiveQuietHours, localTime, userTimeZone, type ProfileTimeZone } from '../rules/local-time.ts';
import { dedupeKey, evaluate } from '../rules/rules.ts';
import type { UserStateStore } from '../state/user-state.store.ts';

/** Publishes a push to the central topic; the contracts derive the message group (user id). */
export interface PushPublisher {
  proactive(data: EventInput<'rtc.push.proactive'>, tenantId: string): Promise<void>;
  notice(data: EventInput<'rtc.push.notice'>, tenantId: string): Promise<void>;
}
export const PUSH_PUBLISHER = Symbol('PUSH_PUBLISHER');

/** The per-user state the dispatcher reads and writes (UserStateStore in the app). */
export type PushState = Pick<UserStateStore, 'settings' | 'history' | 'claim' | 'unclaim' | 'reserveDaily' | 'releaseDaily' | 'recordSent'>;

export interface PushRequest {
  kind: 'proactive' | 'notice';
  tenantId: string;
  userId: string;
  sessionId?: string;
  /** The intent (proactive) or `new_content` (notices): cooldowns and metrics are per intent. */
  intent: string;
  /** What makes two pushes the same on one day: the slots of a prompt, the document of a notice. */
  subject: Record<string, string>;
  text: string;
  title?: string;
  link?: string;
  cooldownMs: number;
  expiresAt?: number;
  /** The session's activity, for the "not while answering / right after the user spoke" rules. */
  session?: { pendingUntil?: number | undefined; lastUserAt?: number | undefined };
}

export type Decision =
  | { outcome: 'sent'; reason: 'none'; dedupeKey: string }
  | { outcome: 'suppressed' | 'deferred'; reason: string; dedupeKey?: string }
  | { outcome: 'failed'; reason: 'lock_lost' | 'publish_error'; dedupeKey?: string };

/**
 * The last step before the central topic, shared by scheduled prompts and new-content notices:
 * applies the rules to fresh state, claims the dedupe key (first writer wins across replicas and
 * redeliveries), takes one of the day's pushes atomically (the notice path is not sharded, so the
 * rule's read alone could let two pushes through at cap - 1), publishes, then starts the cooldown.
 * Every decision is logged and counted with its reason.
 */
export class PushDispatcher {
  constructor(
    private readonly users: PushState,
    private readonly publisher: PushPublisher,
    private readonly catalogue: () => Catalogue,
    private readonly metrics: SchedulerMetrics,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
    /** The time zone of the user's profile (access's `/v1/users/{id}/profile`), used when their proactive settings name none. */
    private readonly profileTimeZone: ProfileTimeZone = async () => undefined,
  ) {}

  /** `fence` is called right before the effect; false means another replica owns the work now. */
  async dispatch(request: PushRequest, fence?: () => Promise<boolean>): Promise<Decision> {
    const { tenantId, userId, intent } = request;
    const { defaults } = this.catalogue();
    const now = this.clock();
    const [settings, profileZone] = await Promise.all([this.users.settings(tenantId, userId), this.profileTimeZone(tenantId, userId)]);
    const zone = userTimeZone(settings, profileZone);
    const timezone = zone ?? defaults.timezone;
    const day = localTime(now, timezone).day;
    const history = await this.users.history(tenantId, userId, intent, day);
    const verdict = evaluate({
      now,
      timezone,
      optOut: settings?.optOut ?? false,
      // The default quiet hours apply once the user's zone is known: from their settings, or their profile.
      quietHours: effectiveQuietHours(settings, defaults.quietHours, zone),
      pendingUntil: request.session?.pendingUntil,
      lastUserAt: request.session?.lastUserAt,
      userGraceMs: defaults.userGraceMs,
      lastSentAt: history.lastSentAt,
      cooldownMs: request.cooldownMs,
      sentToday: history.sentToday,
      dailyCap: defaults.dailyCap,
      expiresAt: request.expiresAt,
    });
    if (verdict.outcome !== 'send') {
      return this.decided(request, { outcome: verdict.outcome === 'defer' ? 'deferred' : 'suppressed', reason: verdict.reason });
    }
    const key = `${request.kind}|${dedupeKey(userId, intent, request.subject, day)}`;
    if (fence && !(await fence())) return this.decided(request, { outcome: 'failed', reason: 'lock_lost', dedupeKey: key });
    if (!(await this.users.claim(tenantId, key))) return this.decided(request, { outcome: 'suppressed', reason: 'duplicate', dedupeKey: key });
    if (!(await this.users.reserveDaily(tenantId, userId, day, defaults.dailyCap))) {
      await this.users.unclaim(tenantId, key).catch(() => undefined);
      return this.decided(request, { outcome: 'suppressed', reason: 'daily_cap', dedupeKey: key });
    }
    try {
      if (request.kind === 'proactive') {
        await this.publisher.proactive(
          {
            userId,
            ...(request.sessionId ? { sessionId: request.sessionId } : {}),
            intent,
            text: request.text,
            slots: request.subject,
            dedupeKey: key,
            ...(request.expiresAt ? { expiresAt: new Date(request.expiresAt).toISOString() } : {}),
          },
          tenantId,
        );
      } else {
        await this.publisher.notice({ userId, title: request.title ?? 'New content', text: request.text, dedupeKey: key, ...(request.link ? { link: request.link } : {}) }, tenantId);
      }
    } catch (error) {
      // Nothing went out: give the key and the day's push back so the next attempt may send.
      await Promise.all([this.users.unclaim(tenantId, key), this.users.releaseDaily(tenantId, userId, day)]).catch(() => undefined);
      return this.decided(request, { outcome: 'failed', reason: 'publish_error', dedupeKey: key }, error);
    }
    await this.users.recordSent(tenantId, userId, intent, now, request.cooldownMs);
    return this.decided(request, { outcome: 'sent', reason: 'none', dedupeKey: key });
  }

  private decided(request: PushRequest, decision: Decision, error?: unknown): Decision {
    this.metrics.decisions.inc({ intent: request.intent, outcome: decision.outcome, reason: decision.reason });
    const fields = { kind: request.kind, tenantId: request.tenantId, userId: request.userId, sessionId: request.sessionId, intent: request.intent, ...decision, ...(error ? { err: String(error) } : {}) };
    if (decision.outcome === 'failed') this.logger.warn(fields, 'proactive decision');
    else if (decision.outcome === 'deferred') this.logger.debug(fields, 'proactive decision');
    else this.logger.info(fields, 'proactive decision');
    return decision;
  }
}
