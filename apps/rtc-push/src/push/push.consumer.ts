import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import type { Envelope } from '@aip/contracts';
import { RocketMQEvent } from '@aip/messaging';
import { PushRouter } from './push.router.ts';

/**
 * The consumer of the central topic `rtc-push` in the app's group `rtc-push` (FIFO: one user's
 * pushes in order, different users in parallel, up to PUSH_CONCURRENCY at once — the consumer
 * settings in app.options.ts). Every instance consumes it and routes each push to the instance
 * holding the user. Tests run it on topics of their own with ROCKETMQ_NAMESPACE.
 */
@Controller()
export class PushConsumer {
  constructor(@Inject(PushRouter) private readonly router: PushRouter) {}

  @RocketMQEvent('rtc.push.proactive')
  async onProactive(@Payload() event: Envelope<'rtc.push.proactive'>) {
    await this.router.route(event);
  }

  @RocketMQEvent('rtc.push.notice')
  async onNotice(@Payload() event: Envelope<'rtc.push.notice'>) {
    await this.router.route(event);
  }
}
