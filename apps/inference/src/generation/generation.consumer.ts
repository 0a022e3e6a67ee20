import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { Envelope } from '@aip/contracts';
import { RocketMQContext, RocketMQEvent } from '@aip/messaging';
import { StaleRunError } from '@aip/tasks';
import { LaneHeartbeat } from '../routing/lane-heartbeat.ts';
import { GenerationService } from './generation.service.ts';

/** Admitted requests; the transport asks the broker only for as many as there are free slots. */
@Controller()
export class GenerationConsumer {
  constructor(
    @Inject(GenerationService) private readonly generation: GenerationService,
    @Inject(LaneHeartbeat) private readonly lanes: LaneHeartbeat,
  ) {}

  @RocketMQEvent('ai.request.admitted')
  async onAdmitted(@Payload() event: Envelope<'ai.request.admitted'>, @Ctx() ctx: RocketMQContext) {
    // Routed to a worker by session affinity: from now on the worker's own report counts it.
    if (event.data.workerId) this.lanes.taken(event.data.workerId, event.data.request.taskId);
    try {
      await this.generation.run(event, { attempt: ctx.getDeliveryAttempt(), last: ctx.isLastAttempt() });
    } catch (error) {
      // Dead-lettered after this: nobody would ever end the task or give its reservation back
      // (unless another delivery owns the task now: it ends it).
      if (ctx.isLastAttempt() && !(error instanceof StaleRunError)) await this.generation.giveUp(event, error).catch(() => undefined);
      throw error;
    }
  }
}
