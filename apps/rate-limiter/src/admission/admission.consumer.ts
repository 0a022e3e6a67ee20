import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { Envelope } from '@aip/contracts';
import { RocketMQContext, RocketMQEvent } from '@aip/messaging';
import { AdmissionService } from './admission.service.ts';

@Controller()
export class AdmissionConsumer {
  constructor(@Inject(AdmissionService) private readonly admission: AdmissionService) {}

  @RocketMQEvent('ai.request.submitted', { concurrency: 64 })
  async onSubmitted(@Payload() event: Envelope<'ai.request.submitted'>, @Ctx() ctx: RocketMQContext) {
    try {
      await this.admission.submit(event);
    } catch (error) {
      // Dead-lettered after this: end the task so its client is not left waiting.
      if (ctx.isLastAttempt()) await this.admission.giveUp(event, error).catch(() => undefined);
      throw error;
    }
  }

  // Usage is final: replace the reservation by what was really used, free the slot.
  @RocketMQEvent('ai.inference.completed', { concurrency: 64 })
  onCompleted(@Payload() event: Envelope<'ai.inference.completed'>) {
    return this.admission.reconcile(event);
  }

  @RocketMQEvent('ai.inference.failed')
  onFailed(@Payload() event: Envelope<'ai.inference.failed'>) {
    return this.admission.reconcile(event);
  }

  @RocketMQEvent('ai.inference.cancelled')
  onCancelled(@Payload() event: Envelope<'ai.inference.cancelled'>) {
    return this.admission.reconcile(event);
  }
}
