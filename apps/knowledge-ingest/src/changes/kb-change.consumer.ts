import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { Envelope } from '@aip/contracts';
import { RocketMQContext, RocketMQEvent, type RocketMQHandlerExtras } from '@aip/messaging';
import { ChangeService } from './change.service.ts';
import { TenantFairScheduler } from './tenant-fair.scheduler.ts';

/**
 * The consumer of `kb-change` (FIFO, message group `kbId:docId`: one document's changes apply in
 * order, different documents in parallel). Every change waits for its tenant's turn in the
 * `TenantFairScheduler` (its lease renewed meanwhile), so the changes held from the broker are
 * applied round-robin across tenants. Built per configuration because the topic and group are
 * settings (tests and migrations point them elsewhere).
 */
export function kbChangeConsumer(extras: RocketMQHandlerExtras): Type {
  @Controller()
  class KbChangeConsumer {
    constructor(
      @Inject(ChangeService) private readonly changes: ChangeService,
      @Inject(TenantFairScheduler) private readonly turns: TenantFairScheduler,
    ) {}

    @RocketMQEvent('kb.change.upsert', extras)
    onUpsert(@Payload() event: Envelope<'kb.change.upsert'>, @Ctx() ctx: RocketMQContext) {
      return this.turns.run(event.tenantId, () => this.changes.upsert(event, ctx.getDeliveryAttempt()));
    }

    @RocketMQEvent('kb.change.delete', extras)
    onDelete(@Payload() event: Envelope<'kb.change.delete'>) {
      return this.turns.run(event.tenantId, () => this.changes.delete(event));
    }
  }
  return KbChangeConsumer;
}
