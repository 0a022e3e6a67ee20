import type { EventData, EventInput } from '@aip/contracts';
import { trace } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { AdmissionControl } from './admission-control.ts';
import { AdmissionGate, admittedData } from './admission-gate.ts';
import { AdmissionTerms, type AdmissionTermsValue } from './admission-terms.ts';
import { DeadlineQueue } from './deadline-queue.ts';
import type { PolicyBook } from './policy-book.ts';
import type { AdmitResult } from './admission.types.ts';
import { limitSubject } from './policy-document.schema.ts';
import { rateLimitPolicySchema } from './rate-limit-policy.schema.ts';
import { rateLimitPrefix } from './rate-limit.keys.ts';
import { WorkerRegistry } from './worker-registry.ts';

const tracer = trace.getTracer('@aip/rate-limit');

/** How long the limiter's terms are kept before they are read again. */
const TERMS_CACHE_MS = 500;

/** How a request went: admitted here, or handed to the limiter and why (for a counter). */
export type FastPathOutcome = { admitted: true; reason: string } | { admitted: false; reason: 'disabled' | 'no_terms' | 'queue_not_empty' | 'error' | string };

export interface FastPathParts {
  gate: AdmissionGate;
  control: AdmissionControl;
  terms: AdmissionTerms;
  queue: DeadlineQueue;
  /** The limiter's `policies` document, applied by the app's document watch; its default comes with the terms. */
  policies: PolicyBook;
  enabled: boolean;
  /** Told about trouble that does not stop the request (Redis failing here, affinity, a release). */
  warn: (fields: Record<string, unknown>, message: string) => void;
}

/** Publishes the admitted request to the workers (on the session's lane, when there is one). */
export type PublishAdmitted = (data: EventInput<'ai.request.admitted'>, lane: number | undefined) => Promise<unknown>;

/**
 * The edges' admission fast path (ADR 0025): a request that the limits admit right now goes
 * straight to the workers' queue, one broker hop instead of two. It runs the rate-limiter's own
 * admission script under the rate-limiter's own terms (which every running limiter restates in
 * Redis), so limits hold exactly as if the limiter had decided. Everything else is the limiter's: a
 * request that must wait or be refused, every request while anything waits in the limiter's queue
 * (nobody overtakes a parked request), while no limiter has stated its terms lately, or while Redis
 * fails here — those the caller hands over as `ai.request.submitted`. Used by access (HTTP) and
 * rtc-push (the realtime socket's chat).
 */
export class AdmissionFastPath {
  private readonly parts: FastPathParts;
  private cached: { value: AdmissionTermsValue | undefined; readAt: number } = { value: undefined, readAt: -Infinity };

  constructor(parts: FastPathParts) {
    this.parts = parts;
  }

  /**
   * Admits the request and publishes it: `admitted: true`. Otherwise nothing is reserved and the
   * caller hands the request to the limiter. Throws only when an admitted request could not be
   * published (its reservation is given back first).
   */
  async admit(key: { tenantId: string; policy?: unknown }, request: EventData<'ai.request.submitted'>, acceptedAt: number, publish: PublishAdmitted): Promise<FastPathOutcome> {
    // The edge's admission span: admitted here, or handed over and why.
    const span = tracer.startSpan('admission (fast path)', { attributes: { 'aip.task.id': request.taskId } });
    try {
      const outcome = await this.decide(key, request, acceptedAt, publish);
      span.setAttributes({ 'aip.admission.admitted': outcome.admitted, 'aip.admission.reason': outcome.reason });
      return outcome;
    } finally {
      span.end();
    }
  }

  private async decide(key: { tenantId: string; policy?: unknown }, request: EventData<'ai.request.submitted'>, acceptedAt: number, publish: PublishAdmitted): Promise<FastPathOutcome> {
    const { gate, control, queue, policies, enabled, warn } = this.parts;
    if (!enabled) return { admitted: false, reason: 'disabled' };
    let attempt;
    try {
      const terms = await this.currentTerms(); // read from Redis twice a second at most
      if (!terms) return { admitted: false, reason: 'no_terms' };
      // Both reads in one round trip: at low load each round trip costs a wake-up (~0.4 ms here).
      const [waiting, capacity] = await Promise.all([queue.size(), gate.capacity(terms)]);
      if (waiting > 0) return { admitted: false, reason: 'queue_not_empty' };
      policies.setDefault(terms.defaultPolicy);
      const own = key.policy ? rateLimitPolicySchema.safeParse(key.policy) : undefined;
      const resolved = policies.resolve({ tenantId: key.tenantId, model: request.model, keyId: request.apiKeyId }, own?.success ? own.data : undefined);
      // Money is the limiter's alone (one writer of the budget counters, one publisher of their thresholds).
      if (resolved.budgets.length > 0) return { admitted: false, reason: 'budgeted' };
      attempt = await gate.attempt(key.tenantId, request, resolved, terms, Promise.resolve(capacity));
    } catch (error) {
      warn({ taskId: request.taskId, err: String(error) }, 'admission fast path failed: handing the request to the limiter');
      return { admitted: false, reason: 'error' };
    }
    const { decision, affinity } = attempt;
    if (!decision.admitted) return { admitted: false, reason: decision.reason };
    if (affinity?.error !== undefined) warn({ taskId: request.taskId, err: String(affinity.error) }, 'could not choose a worker: any worker may take the request');
    const worker = affinity?.worker;
    try {
      await publish(admittedData(request, decision, Date.now() - acceptedAt, worker), worker?.lane);
    } catch (error) {
      await control.release(decision.reservationId).catch((releaseError: unknown) =>
        warn({ taskId: request.taskId, err: String(releaseError) }, 'could not release the reservation of a request that was not published; its lease will free it'),
      );
      throw error;
    }
    return { admitted: true, reason: worker ? `affinity_${worker.reason}` : '' };
  }

  /**
   * Admits work the edge answers itself (`POST /v1/embeddings`): the key's limits count it as they
   * count its chats — the same policy, request bucket, tokens-per-minute window and concurrency —
   * but it never waits in the limiter's queue (an embedding is a short synchronous call: refused
   * now, with when to retry). `settle` with the tokens used once answered. Before any limiter has
   * stated its terms, the `policies` document and key policies still apply. Throws when Redis fails.
   */
  async reserve(key: { tenantId: string; apiKeyId: string; policy?: unknown }, model: string, requestId: string, tokens: number): Promise<AdmitResult> {
    const { control, policies } = this.parts;
    const terms = await this.currentTerms();
    if (terms) policies.setDefault(terms.defaultPolicy);
    const own = key.policy ? rateLimitPolicySchema.safeParse(key.policy) : undefined;
    const resolved = policies.resolve({ tenantId: key.tenantId, model }, own?.success ? own.data : undefined);
    return control.admit({ requestId, tenantId: key.tenantId, keyId: limitSubject(key.apiKeyId, model, resolved), model, tokens, policy: resolved.policy });
  }

  /** Ends a reservation of `reserve`: the tokens actually used stay in the window, the slot is freed. */
  async settle(reservationId: string, actualTokens: number): Promise<void> {
    await this.parts.control.reconcile(reservationId, actualTokens);
  }

  private async currentTerms(): Promise<AdmissionTermsValue | undefined> {
    const now = Date.now();
    if (now - this.cached.readAt >= TERMS_CACHE_MS) this.cached = { value: await this.parts.terms.read(), readAt: now };
    return this.cached.value;
  }
}

/** The fast path of an edge app, on the rate-limiter's keys under `redisPrefix`. */
export function admissionFastPath(redis: Redis, redisPrefix: string, policies: PolicyBook, enabled: boolean, warn: FastPathParts['warn']): AdmissionFastPath {
  const prefix = rateLimitPrefix(redisPrefix);
  const control = new AdmissionControl(redis, { prefix });
  return new AdmissionFastPath({
    gate: new AdmissionGate(control, new WorkerRegistry(redis, { prefix })),
    control,
    terms: new AdmissionTerms(redis, prefix),
    queue: new DeadlineQueue(redis, { prefix }),
    policies,
    enabled,
    warn,
  });
}
