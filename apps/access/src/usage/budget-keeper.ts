import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { periodOf, PolicyBook, SpendBudgets } from '@aip/rate-limit';
import { ENV, LOGGER } from '@aip/runtime';
import { UsageLedger } from '@aip/usage';
import type { Logger } from 'pino';
import type { AccessEnv } from '../access.config.ts';

/**
 * Keeps spend budgets honest across a Redis loss (ADR 0030): every BUDGET_SEED_MS, a budget whose
 * counter has not been taken up from the usage ledger this period (Redis lost it, or the period
 * is new) gets the ledger's spend for the period as its floor. Access does it because it holds the
 * ledger; the limiter alone reserves and settles.
 */
@Injectable()
export class BudgetKeeper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    @Inject(PolicyBook) private readonly policies: PolicyBook,
    @Inject(SpendBudgets) private readonly budgets: SpendBudgets,
    @Inject(UsageLedger) private readonly ledger: UsageLedger,
    @Inject(ENV) private readonly env: AccessEnv,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.seed(), this.env.BUDGET_SEED_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One pass over the budgets; returns how many were taken up from the ledger. */
  async seed(now = Date.now()): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let seeded = 0;
    try {
      for (const budget of this.policies.budgets()) {
        if (await this.budgets.seeded(budget, now)) continue;
        const period = periodOf(budget.period, now);
        const [spend] = await this.ledger.report({ from: new Date(period.startsAt), to: new Date(period.endsAt), tenantId: budget.tenantId, keyId: budget.keyId, model: budget.model }, []);
        const ledgerNanos = Math.round((spend?.cost ?? 0) * 1e9);
        if (await this.budgets.seed(budget, ledgerNanos, now)) {
          seeded++;
          if (ledgerNanos > 0) this.logger.info({ tenantId: budget.tenantId, budgetId: budget.id, period: period.id, ledgerUsd: ledgerNanos / 1e9 }, 'spend budget taken up from the usage ledger');
        }
      }
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'spend budgets could not be taken up from the usage ledger; tried again on the next pass');
    } finally {
      this.running = false;
    }
    return seeded;
  }
}
