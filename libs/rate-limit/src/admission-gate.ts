import type { EventData, EventInput } from '@aip/contracts';
import type { AdmissionControl } from './admission-control.ts';
import type { AdmissionTermsValue } from './admission-terms.ts';
import type { Admitted, AdmitResult } from './admission.types.ts';
import { limitSubject, type ResolvedPolicy } from './policy-document.schema.ts';
import type { WorkerChoice, WorkerRegistry } from './worker-registry.ts';

type Submitted = EventData<'ai.request.submitted'>;

export interface AdmissionAttempt {
  decision: AdmitResult;
  /**
   * Set when session affinity chose for an admitted request: the worker (and lane) it goes to,
   * none when no live worker holds a lane, or the error when choosing failed (Redis) — then any
   * worker takes it.
   */
  affinity?: { worker?: WorkerChoice; error?: unknown };
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

  constructor(control: AdmissionControl, workers: WorkerRegistry) {
    this.control = control;
    this.workers = workers;
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
    if (!decision.admitted || !terms.sessionAffinity || !request.sessionId) return { decision };
    try {
      // Session ids are the tenant's own: two tenants may use the same one.
      const worker = await this.workers.chooseWorker(`${tenantId}/${request.sessionId}`, { maxLoadGap: terms.affinityMaxLoadGap, assignmentId: request.taskId });
      return { decision, affinity: worker ? { worker } : {} };
    } catch (error) {
      return { decision, affinity: { error } };
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
