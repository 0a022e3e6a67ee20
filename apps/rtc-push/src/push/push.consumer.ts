import { Controller, Inject, type Type } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import type { Envelope } from '@aip/contracts';
import { RocketMQEvent } from '@aip/messaging';
import { PushRouter } from './push.router.ts';

/**
 * The consumer of the central topic. Built per topic/group so several instances (and tests with
 * unique topics) declare their subscription without patching decorators; production uses the
 * contracts' `rtc-push` topic and group.
 */
export function pushConsumer(topic: string, group: string, concurrency: number): Type<unknown> {
  @Controller()
  class PushConsumer {
    constructor(@Inject(PushRouter) private readonly router: PushRouter) {}

    @RocketMQEvent('rtc.push.proactive', { topic, group, concurrency })
    async onProactive(@Payload() event: Envelope<'rtc.push.proactive'>) {
      await this.router.route(event);
    }

    @RocketMQEvent('rtc.push.notice', { topic, group, concurrency })
    async onNotice(@Payload() event: Envelope<'rtc.push.notice'>) {
      await this.router.route(event);
    }
  }
  return PushConsumer;
}
