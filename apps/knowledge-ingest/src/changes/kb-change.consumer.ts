import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { Envelope } from '@aip/contracts';
import { RocketMQContext, RocketMQEvent } from '@aip/messaging';
import { ChangeService } from './change.service.ts';
import { TenantFairScheduler } from './tenant-fair.scheduler.ts';

/**
 * The consumer of `kb-change` in the app's group `knowledge-ingest` (FIFO, message group
 * `kbId:docId`: one document's changes apply in order, different documents in parallel). The
 * transport holds up to INGEST_PREFETCH changes, each on a LEASE_MS lease (the consumer settings in
 * app.options.ts); every change waits for its tenant's turn in the `TenantFairScheduler` (its lease
 * renewed meanwhile), so the changes held from the broker are applied round-robin across tenants.
 */
@Controller()
export class KbChangeConsumer {
  constructor(
    @Inject(ChangeService) private readonly changes: ChangeService,
    @Inject(TenantFairScheduler) private readonly turns: TenantFairScheduler,
  ) {}

  @RocketMQEvent('kb.change.upsert')
  onUpsert(@Payload() event: Envelope<'kb.change.upsert'>, @Ctx() ctx: RocketMQContext) {
    return this.turns.run(event.tenantId, () => this.changes.upsert(event, ctx.getDeliveryAttempt()));
  }

  @RocketMQEvent('kb.change.delete')
  onDelete(@Payload() event: Envelope<'kb.change.delete'>) {
    return this.turns.run(event.tenantId, () => this.changes.delete(event));
  }
}
