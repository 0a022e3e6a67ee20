import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { Envelope } from '@aip/contracts';
import { RocketMQContext, RocketMQEvent, type RocketMQHandlerExtras } from '@aip/messaging';
import { ChangeService } from './change.service.ts';

/**
 * The consumer of `kb-change` (FIFO, message group `kbId:docId`: one document's changes apply in
 * order, different documents in parallel). Built per configuration because the topic and group
 * are settings (tests and migrations point them elsewhere).
 */
export function kbChangeConsumer(extras: RocketMQHandlerExtras): Type {
  @Controller()
  class KbChangeConsumer {
    constructor(@Inject(ChangeService) private readonly changes: ChangeService) {}

    @RocketMQEvent('kb.change.upsert', extras)
    onUpsert(@Payload() event: Envelope<'kb.change.upsert'>, @Ctx() ctx: RocketMQContext) {
      return this.changes.upsert(event, ctx.getDeliveryAttempt());
    }

    @RocketMQEvent('kb.change.delete', extras)
    onDelete(@Payload() event: Envelope<'kb.change.delete'>) {
      return this.changes.delete(event);
    }
  }
  return KbChangeConsumer;
}
