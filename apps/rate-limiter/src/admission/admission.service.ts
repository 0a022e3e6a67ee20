import { Inject, Injectable } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import type { Envelope } from '@aip/contracts';
import { ApiKeyStore } from '@aip/keys';
import { EventPublisher } from '@aip/messaging';
import { AdmissionControl, AdmissionGate, admittedData, budgetRefusal, DeadlineQueue, periodOf, PolicyBook, rateLimitPolicySchema, SpendBudgets, type Admitted, type SpendBudget, type WorkerChoice } from '@aip/rate-limit';
import { PriceBook } from '@aip/usage';
import { ENV, LOGGER } from '@aip/runtime';
import { TaskStore } from '@aip/tasks';
import type { Logger } from 'pino';
import type { RateLimiterEnv } from '../rate-limiter.config.ts';
import { admissionMetrics, countWorkerChoice } from './admission.metrics.ts';


export type Submitted = Envelope<'ai.request.submitted'>;

const tracer = trace.getTracer('@aip/rate-limiter');
type Rejection = 'rate_limited' | 'token_budget_exceeded' | 'concurrency_limit' | 'deadline_exceeded' | 'policy_denied' | 'no_capacity' | 'budget_exceeded';

/**
 * Admit / queue-with-deadline / reject, atomically in Redis (one script per decision), so limits
 * hold across replicas. A request that cannot be admitted now but can still make its deadline is
 * parked and retried as capacity frees, instead of an immediate 429.
 */
@Injectable()
export class AdmissionService {
  constructor(
    @Inject(AdmissionControl) private readonly admission: AdmissionControl,
    @Inject(AdmissionGate) private readonly gate: AdmissionGate,
    @Inject(DeadlineQueue) private readonly queue: DeadlineQueue,
    @Inject(PolicyBook) private readonly policies: PolicyBook,
    @Inject(SpendBudgets) private readonly budgets: SpendBudgets,
    @Inject(PriceBook) private readonly prices: PriceBook,
    @Inject(ApiKeyStore) private readonly keys: ApiKeyStore,
    @Inject(TaskStore) private readonly tasks: TaskStore,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(ENV) private readonly env: RateLimiterEnv,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async submit(event: Submitted, queuedSince = Date.parse(event.time)): Promise<void> {
    const request = event.data;
    const deadlineMs = Date.parse(request.deadline);
    if (deadlineMs <= Date.now()) return this.reject(event, 'deadline_exceeded', 'the request waited past its deadline');
    const [key, cancelled] = await Promise.all([this.keys.byId(request.apiKeyId), this.tasks.isCancelled(request.taskId)]);
    if (cancelled) {
      // Cancelled while it waited: nothing is reserved for it, and nothing will be.
      admissionMetrics.decisions.inc({ outcome: 'dropped', reason: 'cancelled' });
      this.logger.info({ taskId: request.taskId }, 'request cancelled before admission: not admitted');
      return;
    }
    if (!key || key.status !== 'active') return this.reject(event, 'policy_denied', 'the API key is not active');
    const own = key.policy ? rateLimitPolicySchema.safeParse(key.policy) : undefined;
    if (own && !own.success) this.logger.warn({ keyId: key.id }, 'the key\'s policy is invalid: using its tenant\'s or the default');
    const resolved = this.policies.resolve({ tenantId: event.tenantId, model: request.model, keyId: request.apiKeyId }, own?.success ? own.data : undefined);
    const terms = { checkWorkerCapacity: this.env.CHECK_WORKER_CAPACITY, sessionAffinity: this.env.SESSION_AFFINITY, affinityMaxLoadGap: this.env.AFFINITY_MAX_LOAD_GAP };
    // The decision's span: what it decided and why (a child of the submission's consume span).
    const span = tracer.startSpan('admission', { attributes: { 'aip.task.id': request.taskId, 'aip.policy.id': resolved.policy.id, 'aip.budgets': resolved.budgets.length } });
    const attempt = await this.gate.attempt(event.tenantId, request, resolved, terms).finally(() => span.end());
    const { decision } = attempt;
    span.setAttributes({ 'aip.admission.admitted': decision.admitted, ...(decision.admitted ? {} : { 'aip.admission.reason': decision.reason }) });
    if (attempt.crossed) await this.announceThresholds(event, attempt.crossed);
    if (attempt.budget) {
      // Waiting cannot help before the budget resets (hours or weeks): refused now, naming it.
      return this.reject(event, 'budget_exceeded', budgetRefusal(attempt.budget), Math.max(1, attempt.budget.resetsAt - Date.now()));
    }
    if (decision.admitted) {
      countWorkerChoice(attempt.affinity, { taskId: request.taskId, sessionId: request.sessionId }, this.logger);
      await this.forward(event, decision, queuedSince, attempt.affinity?.worker);
      admissionMetrics.decisions.inc({ outcome: 'admitted', reason: '' });
      return;
    }
    const retryAt = Date.now() + decision.retryAfterMs;
    if (decision.retryAfterMs >= 0 && retryAt < deadlineMs) {
      // Park it only while it can still make its deadline: with `ahead` requests of this key to be
      // admitted first at the bucket's rate, the earliest it can go is retryAt + ahead × interval.
      const rpm = resolved.policy.requestsPerMinute;
      const intervalMs = decision.reason === 'rate_limited' && rpm ? 60_000 / rpm : 0;
      const reachable = intervalMs > 0 ? Math.floor((deadlineMs - retryAt) / intervalMs) : undefined;
      const parked = await this.queue.enqueue(
        { requestId: request.taskId, keyId: request.apiKeyId, priority: request.priority, deadlineMs, payload: JSON.stringify({ event, queuedSince }) },
        { ...(reachable !== undefined ? { maxAhead: reachable } : {}), maxParked: this.env.MAX_PARKED_PER_KEY },
      );
      if (parked.outcome !== 'refused') {
        admissionMetrics.decisions.inc({ outcome: 'queued', reason: decision.reason });
        return;
      }
      const earliestMs = decision.retryAfterMs + parked.ahead * intervalMs;
      const why = parked.parked >= this.env.MAX_PARKED_PER_KEY
        ? `${parked.parked} requests of this key are already waiting (at most ${this.env.MAX_PARKED_PER_KEY})`
        : `${parked.ahead} requests of this key wait ahead of it, so it cannot be admitted before its deadline`;
      return this.reject(event, decision.reason, `${decision.reason.replaceAll('_', ' ')}: limit ${decision.limit}; ${why}; retry after ${Math.ceil(earliestMs / 1000)} s`, Math.ceil(earliestMs), { limit: decision.limit, remaining: decision.remaining });
    }
    const message =
      decision.retryAfterMs < 0
        ? `the request needs more tokens than the key's tokens-per-minute limit (${decision.limit})`
        : `${decision.reason.replaceAll('_', ' ')}: limit ${decision.limit}, retry after ${Math.ceil(decision.retryAfterMs / 1000)} s`;
    await this.reject(event, decision.reason, message, decision.retryAfterMs >= 0 ? decision.retryAfterMs : undefined, { limit: decision.limit, remaining: decision.remaining });
  }

  /**
   * Hands an admitted request to the workers. If that fails (broker down), its reservation is
   * released before the error propagates, so the retry — of the message, or of the parked
   * request — reserves afresh instead of leaking a slot for the lease.
   */
  private async forward(event: Submitted, decision: Pick<Admitted, 'reservationId' | 'reservedTokens' | 'standing'>, queuedSince: number, worker: WorkerChoice | undefined) {
    const request = event.data;
    try {
      await this.publisher.publish('ai.request.admitted', admittedData(request, decision, Date.now() - queuedSince, worker), {
        tenantId: event.tenantId,
        ...(event.traceparent ? { traceparent: event.traceparent } : {}),
        ...(worker ? { lane: worker.lane } : {}),
      });
    } catch (error) {
      await this.admission.release(decision.reservationId).catch((releaseError: unknown) =>
        this.logger.warn({ taskId: request.taskId, err: String(releaseError) }, 'could not release the reservation of a request that was not forwarded; its lease will free it'),
      );
      throw error;
    }
  }

  async reconcile(event: Envelope<'ai.inference.completed' | 'ai.inference.failed' | 'ai.inference.cancelled'>): Promise<void> {
    const { reservationId } = event.data;
    if (!reservationId) return;
    const actual = event.data.usage?.totalTokens ?? 0;
    await this.admission.reconcile(reservationId, actual);
    // The budgets' reservation becomes the real cost, priced as the usage ledger prices it (a
    // failed or cancelled run costs nothing there, so nothing here). Only tenants with budgets pay the round trip.
    if (this.policies.budgets(event.tenantId).length > 0) {
      const completed = event.type === 'ai.inference.completed' ? (event as Envelope<'ai.inference.completed'>).data : undefined;
      const cost = completed ? this.prices.costOf(completed.model, completed.provider, completed.usage) : 0;
      await this.budgets.settle(event.tenantId, reservationId, cost);
    }
  }

  /** Tells observers (`ai.budget.threshold`) that budgets crossed their soft limit; a failure is logged and counted, the request goes on. */
  private async announceThresholds(event: Submitted, crossed: readonly SpendBudget[]): Promise<void> {
    for (const budget of crossed) {
      admissionMetrics.decisions.inc({ outcome: 'budget_threshold', reason: budget.period });
      this.logger.warn({ tenantId: budget.tenantId, budgetId: budget.id, softPercent: budget.softPercent }, 'spend budget crossed its soft limit');
      const data = { budgetId: budget.id, ...(budget.keyId ? { keyId: budget.keyId } : {}), ...(budget.model ? { model: budget.model } : {}), period: budget.period, periodId: periodOf(budget.period, Date.now()).id, amountUsd: budget.amountUsd, softPercent: budget.softPercent, taskId: event.data.taskId };
      await this.publisher.publish('ai.budget.threshold', data, { tenantId: event.tenantId }).catch((error: unknown) => {
        admissionMetrics.decisions.inc({ outcome: 'budget_threshold_unannounced', reason: budget.period });
        this.logger.warn({ budgetId: budget.id, err: String(error) }, 'could not publish ai.budget.threshold: the threshold is logged here only');
      });
    }
  }

  /**
   * The submission's last delivery failed (Redis or the broker kept failing): the message goes to
   * the dead-letter topic, so the task is ended here — its client learns at once instead of
   * waiting for a task that nobody will admit.
   */
  async giveUp(event: Submitted, cause: unknown): Promise<void> {
    const { taskId } = event.data;
    const message = 'the request could not be admitted: the platform\'s storage or broker kept failing; retry later';
    const ended = await this.tasks.finish(taskId, 'failed', { error: { code: 'admission_failed', message } }, { type: 'error', code: 'admission_failed', message, status: 503 });
    admissionMetrics.decisions.inc({ outcome: 'dead_lettered', reason: 'error' });
    this.logger.error({ taskId, ended, err: String(cause) }, 'submission dead-lettered: task ended as failed');
  }

  /** A parked request whose deadline passed before capacity freed. */
  expire(event: Submitted): Promise<void> {
    return this.reject(event, 'deadline_exceeded', 'no capacity freed before the request\'s deadline');
  }

  private async reject(event: Submitted, reason: Rejection, message: string, retryAfterMs?: number, bound: { limit?: number; remaining?: number } = {}) {
    const { taskId, apiKeyId, model } = event.data;
    const details = { ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), ...bound };
    // The task first: that is what the waiting client sees. The lifecycle event is for observers;
    // if the broker is down it is logged and counted, and the rejection stands.
    await this.tasks.finish(taskId, 'rejected', { error: { code: reason, message } }, { type: 'error', code: reason, message, status: 429, ...details });
    admissionMetrics.decisions.inc({ outcome: 'rejected', reason });
    this.logger.info({ taskId, reason }, 'request rejected');
    try {
      await this.publisher.publish('ai.request.rejected', { taskId, apiKeyId, model, reason, message, ...details }, { tenantId: event.tenantId });
    } catch (error) {
      admissionMetrics.decisions.inc({ outcome: 'rejection_unannounced', reason });
      this.logger.warn({ taskId, reason, err: String(error) }, 'could not publish ai.request.rejected: the task is rejected, observers miss the event');
    }
  }
}
