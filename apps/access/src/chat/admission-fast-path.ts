import { Inject, Injectable } from '@nestjs/common';
import type { EventData } from '@aip/contracts';
import type { ApiKeyRecord } from '@aip/keys';
import { EventPublisher } from '@aip/messaging';
import { AdmissionControl, AdmissionGate, AdmissionTerms, admittedData, DeadlineQueue, PolicyBook, rateLimitPolicySchema, type AdmissionTermsValue } from '@aip/rate-limit';
import { ENV, LOGGER } from '@aip/runtime';
import type { Logger } from 'pino';
import { Counter, register } from 'prom-client';
import type { AccessEnv } from '../access.config.ts';

/** How long access keeps the limiter's terms before reading them again. */
const TERMS_CACHE_MS = 500;

export const fastPathMetrics = {
  admissions: new Counter({
    name: 'aip_access_admissions_total',
    help: 'Requests access admitted itself (direct) or handed to the rate-limiter (handed_over), by why',
    labelNames: ['path', 'reason'],
    registers: [register],
  }),
};

/**
 * Access's admission fast path (ADR 0025): a request that the limits admit right now goes straight
 * to the workers' queue (`ai.request.admitted`), one broker hop instead of two. It runs the
 * rate-limiter's own admission script with the rate-limiter's own terms (read from Redis, where
 * every running limiter restates them), so limits hold exactly as if the limiter had decided.
 * Everything else is the limiter's: a request that must wait or be refused, and every request while
 * some request waits in the limiter's queue (so nobody overtakes a parked request), while no
 * limiter has stated its terms lately, or while Redis fails here — those are handed over as
 * `ai.request.submitted`, as before.
 */
@Injectable()
export class AdmissionFastPath {
  private terms: { value: AdmissionTermsValue | undefined; readAt: number } = { value: undefined, readAt: -Infinity };

  constructor(
    @Inject(AdmissionGate) private readonly gate: AdmissionGate,
    @Inject(AdmissionControl) private readonly control: AdmissionControl,
    @Inject(AdmissionTerms) private readonly published: AdmissionTerms,
    @Inject(DeadlineQueue) private readonly queue: DeadlineQueue,
    @Inject(PolicyBook) private readonly policies: PolicyBook,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(ENV) private readonly env: AccessEnv,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Admits the request and publishes it to the workers: true. False: not admitted here (nothing
   * reserved), the caller hands it to the limiter. Throws only when the admitted request could not
   * be published (its reservation is given back first).
   */
  async admit(key: ApiKeyRecord, request: EventData<'ai.request.submitted'>, acceptedAt: number): Promise<boolean> {
    if (!this.env.ADMISSION_FAST_PATH) return false;
    let attempt;
    try {
      const [terms, waiting] = await Promise.all([this.currentTerms(), this.queue.size()]);
      if (!terms) return this.handOver('no_terms');
      if (waiting > 0) return this.handOver('queue_not_empty');
      this.policies.setDefault(terms.defaultPolicy);
      const own = key.policy ? rateLimitPolicySchema.safeParse(key.policy) : undefined;
      const resolved = this.policies.resolve({ tenantId: key.tenantId, model: request.model }, own?.success ? own.data : undefined);
      attempt = await this.gate.attempt(key.tenantId, request, resolved, terms);
    } catch (error) {
      // Redis trouble here: the limiter decides (and retries) instead.
      this.logger.warn({ taskId: request.taskId, err: String(error) }, 'admission fast path failed: handing the request to the limiter');
      return this.handOver('error');
    }
    const { decision, affinity } = attempt;
    if (!decision.admitted) return this.handOver(decision.reason);
    if (affinity?.error !== undefined) this.logger.warn({ taskId: request.taskId, err: String(affinity.error) }, 'could not choose a worker: any worker may take the request');
    const worker = affinity?.worker;
    try {
      await this.publisher.publish('ai.request.admitted', admittedData(request, decision, Date.now() - acceptedAt, worker), { tenantId: key.tenantId, ...(worker ? { lane: worker.lane } : {}) });
    } catch (error) {
      await this.control.release(decision.reservationId).catch((releaseError: unknown) =>
        this.logger.warn({ taskId: request.taskId, err: String(releaseError) }, 'could not release the reservation of a request that was not published; its lease will free it'),
      );
      throw error;
    }
    fastPathMetrics.admissions.inc({ path: 'direct', reason: worker ? `affinity_${worker.reason}` : '' });
    return true;
  }

  private handOver(reason: string): false {
    fastPathMetrics.admissions.inc({ path: 'handed_over', reason });
    return false;
  }

  private async currentTerms(): Promise<AdmissionTermsValue | undefined> {
    const now = Date.now();
    if (now - this.terms.readAt >= TERMS_CACHE_MS) this.terms = { value: await this.published.read(), readAt: now };
    return this.terms.value;
  }
}
