import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AdmissionTerms, rateLimitPolicySchema } from '@aip/rate-limit';
import { ENV, LOGGER } from '@aip/runtime';
import type { Logger } from 'pino';
import type { RateLimiterEnv } from '../rate-limiter.config.ts';

/** How often a running limiter restates its terms; they lapse after three missed refreshes. */
export const TERMS_REFRESH_MS = 2_000;
const TERMS_TTL_MS = 3 * TERMS_REFRESH_MS;

/**
 * Keeps the limiter's admission terms (default policy, capacity check, session affinity) in Redis
 * for access's fast path (ADR 0025). While no limiter runs they lapse, and access hands every
 * request over to the limiter's queue instead of admitting it.
 */
@Injectable()
export class TermsPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(
    @Inject(AdmissionTerms) private readonly terms: AdmissionTerms,
    @Inject(ENV) private readonly env: RateLimiterEnv,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap() {
    await this.publish();
    this.timer = setInterval(() => void this.publish(), TERMS_REFRESH_MS);
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  private async publish() {
    const terms = {
      defaultPolicy: rateLimitPolicySchema.parse(JSON.parse(this.env.DEFAULT_POLICY)),
      checkWorkerCapacity: this.env.CHECK_WORKER_CAPACITY,
      sessionAffinity: this.env.SESSION_AFFINITY,
      affinityMaxLoadGap: this.env.AFFINITY_MAX_LOAD_GAP,
    };
    try {
      await this.terms.publish(terms, TERMS_TTL_MS);
      if (this.failing) this.logger.info('admission terms published again: access admits directly');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn({ err: String(error) }, 'could not publish the admission terms: once they lapse, access hands every request to the limiter');
      this.failing = true;
    }
  }
}
