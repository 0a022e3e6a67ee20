import type { EventData, EventInput } from '@aip/contracts';
import type { AdmissionControl } from './admission-control.ts';
import type { AdmissionTermsValue } from './admission-terms.ts';
import type { Admitted, AdmitResult } from './admission.types.ts';
import { limitSubject, type ResolvedPolicy } from './policy-document.schema.ts';
import type { WorkerChoice, WorkerRegistry } from './worker-registry.ts';
import { budgetScope, type SpendBudget } from './spend-budget.schema.ts';
import type { SpendBudgets } from './spend-budgets.ts';

type Submitted = EventData<'ai.request.submitted'>;

export interface AdmissionAttempt {
  decision: AdmitResult;
  /**
   * Set when session affinity chose for an admitted request: the worker (and lane) it goes to,
   * none when no live worker holds a lane, or the error when choosing failed (Redis) — then any
   * worker takes it.
   */
  affinity?: { worker?: WorkerChoice; error?: unknown };
  /** Refused by a spend budget: which one, and what it has spent (for the refusal's words). */
  budget?: { budget: SpendBudget; spentNanos: number; resetsAt: number };
  /** Budgets whose spend crossed their soft limit with this request (first time in their period). */
  crossed?: SpendBudget[];
}

/** Spend budgets and how a request's cost is estimated before it runs (an upper bound: its providers' highest prices). */
export interface SpendCheck {
  budgets: SpendBudgets;
  /** Nano-dollars at most the request may cost: prompt and max_tokens at the dearest provider of its alias. */
  estimate: (request: Submitted) => number;
}

/** The words of a budget refusal: which budget, what it allows, what is spent, when it resets. */
export function budgetRefusal({ budget, spentNanos, resetsAt }: NonNullable<AdmissionAttempt['budget']>): string {
  return `the ${budget.period === 'day' ? 'daily' : 'monthly'} budget ${budget.id} (${budgetScope(budget)}) of $${budget.amountUsd} would be exceeded ($${(spentNanos / 1e9).toFixed(4)} spent); it resets at ${new Date(resetsAt).toISOString()}`;
}

/**
 * One admission attempt, the same wherever it is made: by the rate-limiter for every request it
 * consumes, and by access's fast path before a request is handed over (ADR 0025). Reads the live
 * worker capacity when the terms say so, runs the admission script (the limits hold exactly across
 * every caller: one script per decision), and, for an admitted request of a session under session
 * affinity, picks the session's worker. Affinity is an optimisation, never a reason to hold a
 * request back: when choosing fails, any worker takes it.
 */
export class AdmissionGate {
  private readonly control: AdmissionControl;
  private readonly workers: WorkerRegistry;
  private readonly spend: SpendCheck | undefined;

  constructor(control: AdmissionControl, workers: WorkerRegistry, spend?: SpendCheck) {
    this.control = control;
    this.workers = workers;
    this.spend = spend;
  }

  /** The live worker capacity, when the terms check it (read ahead by a caller that has other reads to make). */
  capacity(terms: Pick<AdmissionTermsValue, 'checkWorkerCapacity'>): Promise<number | undefined> {
    return terms.checkWorkerCapacity ? this.workers.liveCapacity() : Promise.resolve(undefined);
  }

  async attempt(tenantId: string, request: Submitted, resolved: ResolvedPolicy, terms: Omit<AdmissionTermsValue, 'defaultPolicy'>, capacityRead = this.capacity(terms)): Promise<AdmissionAttempt> {
    const capacity = await capacityRead;
    const decision = await this.control.admit({
      requestId: request.taskId,
      tenantId,
      // A model-specific policy counts this key's requests to that model only.
      keyId: limitSubject(request.apiKeyId, request.model, resolved),
      model: request.model,
      tokens: request.estimatedPromptTokens + request.maxTokens,
      policy: resolved.policy,
      ...(capacity !== undefined ? { capacity } : {}),
    });
    let crossed: SpendBudget[] = [];
    if (decision.admitted && resolved.budgets.length > 0 && this.spend) {
      // After the limits, so a request they refuse reserves no money; released if a budget refuses.
      let reservation;
      try {
        reservation = await this.spend.budgets.reserve(tenantId, decision.reservationId, resolved.budgets, this.spend.estimate(request));
      } catch (error) {
        await this.control.release(decision.reservationId).catch(() => undefined);
        throw error;
      }
      if (!reservation.reserved) {
        await this.control.release(decision.reservationId);
        const { budget, spentNanos, resetsAt } = reservation;
        const refused: AdmitResult = { admitted: false, reason: 'budget_exceeded', retryAfterMs: Math.max(1, resetsAt - Date.now()), limit: budget.amountUsd, remaining: Math.max(0, budget.amountUsd - spentNanos / 1e9) };
        return { decision: refused, budget: { budget, spentNanos, resetsAt } };
      }
      crossed = reservation.crossed;
    }
    const spent = crossed.length > 0 ? { crossed } : {};
    if (!decision.admitted || !terms.sessionAffinity || !request.sessionId) return { decision, ...spent };
    try {
      // Session ids are the tenant's own: two tenants may use the same one.
      const worker = await this.workers.chooseWorker(`${tenantId}/${request.sessionId}`, { maxLoadGap: terms.affinityMaxLoadGap, assignmentId: request.taskId });
      return { decision, ...spent, affinity: worker ? { worker } : {} };
    } catch (error) {
      return { decision, ...spent, affinity: { error } };
    }
  }
}

/** What `ai.request.admitted` carries for an admitted request. */
export function admittedData(request: Submitted, decision: Pick<Admitted, 'reservationId' | 'reservedTokens' | 'standing'>, queuedMs: number, worker: WorkerChoice | undefined): EventInput<'ai.request.admitted'> {
  return {
    request,
    reservationId: decision.reservationId,
    reservedTokens: decision.reservedTokens,
    queuedMs: Math.max(0, Math.round(queuedMs)),
    ...(worker ? { workerId: worker.workerId } : {}),
    // For the answer's x-ratelimit-* headers (the worker puts them on the task's `running` event).
    ...(Object.keys(decision.standing).length > 0 ? { limits: decision.standing } : {}),
  };
}
