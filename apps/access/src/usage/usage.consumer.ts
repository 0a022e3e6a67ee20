import { Controller, Inject, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import type { Envelope } from '@aip/contracts';
import { RocketMQEvent } from '@aip/messaging';
import { ENV, LOGGER } from '@aip/runtime';
import { PriceBook, usageEntryOf, UsageLedger, type LedgerEvent } from '@aip/usage';
import type { Logger } from 'pino';
import type { AccessEnv } from '../access.config.ts';
import { usageMetrics } from './usage.metrics.ts';

const HOUR_MS = 3_600_000;

/**
 * The usage ledger's writer (group `usage-ledger`): one row per request's end, priced when
 * written. Off the request path: nothing a client waits for reads or writes the ledger. A row
 * that cannot be written (the database down) is retried by the broker, then dead-lettered.
 */
@Controller()
export class UsageConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private retention: NodeJS.Timeout | undefined;
  private readonly retentionMonths: number;

  constructor(
    @Inject(UsageLedger) private readonly ledger: UsageLedger,
    @Inject(PriceBook) private readonly prices: PriceBook,
    @Inject(ENV) env: AccessEnv,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.retentionMonths = env.USAGE_RETENTION_MONTHS;
  }

  /**
   * Keeps the retention, now and hourly — which also opens the ledger at start, so the first row
   * need not wait ~2 s for PGlite.
   */
  onApplicationBootstrap(): void {
    const prune = () => {
      const cutoff = new Date();
      cutoff.setUTCMonth(cutoff.getUTCMonth() - this.retentionMonths);
      void this.ledger.prune(cutoff).then(
        (dropped) => dropped.length > 0 && this.logger.info({ dropped }, 'usage ledger: months past retention dropped'),
        (error: unknown) => this.logger.warn({ err: String(error) }, 'usage ledger: retention check failed; tried again in an hour'),
      );
    };
    prune();
    this.retention = setInterval(prune, HOUR_MS).unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.retention);
    await this.ledger.close().catch(() => undefined);
  }

  @RocketMQEvent('ai.inference.completed')
  onCompleted(@Payload() event: Envelope<'ai.inference.completed'>) {
    return this.write(event);
  }

  @RocketMQEvent('ai.inference.failed')
  onFailed(@Payload() event: Envelope<'ai.inference.failed'>) {
    return this.write(event);
  }

  @RocketMQEvent('ai.inference.cancelled')
  onCancelled(@Payload() event: Envelope<'ai.inference.cancelled'>) {
    return this.write(event);
  }

  @RocketMQEvent('ai.request.rejected')
  onRejected(@Payload() event: Envelope<'ai.request.rejected'>) {
    return this.write(event);
  }

  private async write(event: Envelope<LedgerEvent>): Promise<void> {
    const entry = usageEntryOf(event, this.prices);
    if ((await this.ledger.record([entry])) === 0) return; // written before: counted then
    usageMetrics.rows.inc({ status: entry.status });
    if (entry.costNanos > 0) usageMetrics.cost.inc({ model: entry.model ?? 'unknown', provider: entry.provider ?? 'unknown' }, entry.costNanos / 1e9);
  }
}
