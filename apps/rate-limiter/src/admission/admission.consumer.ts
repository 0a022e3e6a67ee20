import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import type { Envelope } from '@aip/contracts';
import { RocketMQEvent } from '@aip/messaging';
import { AdmissionService } from './admission.service.ts';

@Controller()
export class AdmissionConsumer {
  constructor(@Inject(AdmissionService) private readonly admission: AdmissionService) {}

  @RocketMQEvent('ai.request.submitted', { concurrency: 64 })
  onSubmitted(@Payload() event: Envelope<'ai.request.submitted'>) {
    return this.admission.submit(event);
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
