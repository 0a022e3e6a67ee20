import { BaseRpcContext } from '@nestjs/microservices';
import type { Envelope, EventType } from '@aip/contracts';
import type { MessageView } from 'rocketmq-client-nodejs';

type RocketMQContextArgs = [message: MessageView, envelope: Envelope, group: string];

/** The context of a RocketMQ event handler (`@Ctx() ctx: RocketMQContext`). */
export class RocketMQContext extends BaseRpcContext<RocketMQContextArgs> {
  getMessage(): MessageView {
    return this.args[0];
  }

  getEnvelope<T extends EventType = EventType>(): Envelope<T> {
    return this.args[1] as Envelope<T>;
  }

  getGroup(): string {
    return this.args[2];
  }

  getTopic(): string {
    return this.args[0].topic;
  }

  getTag(): string | undefined {
    return this.args[0].tag;
  }

  /** 1 on the first delivery; higher on retries and redeliveries. */
  getDeliveryAttempt(): number {
    return this.args[0].deliveryAttempt ?? 1;
  }

  getMessageGroup(): string | undefined {
    return this.args[0].messageGroup;
  }
}
