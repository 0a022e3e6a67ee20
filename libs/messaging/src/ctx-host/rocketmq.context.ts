import { BaseRpcContext } from '@nestjs/microservices';
import type { Envelope, EventType } from '@aip/contracts';
import type { MessageView } from 'rocketmq-client-nodejs';

type RocketMQContextArgs = [message: MessageView, envelope: Envelope, group: string, maxAttempts: number];

/** The context of a RocketMQ event handler (`@Ctx() ctx: RocketMQContext`). */
export class RocketMQContext extends BaseRpcContext<RocketMQContextArgs> {
  getMessage(): MessageView {
    return this.args[0];
  }

  getEnvelope<T extends EventType = EventType>(): Envelope<T> {
    return this.args[1] as Envelope<T>;
  }

  /** The consumer group as the broker names it (in the connection's namespace). */
  getGroup(): string {
    return this.args[2];
  }

  /** The topic as the broker names it (in the connection's namespace). */
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

  /** Deliveries the group allows before the message goes to its dead-letter topic. */
  getMaxAttempts(): number {
    return this.args[3];
  }

  /**
   * True on the delivery after which a failure dead-letters the message: a handler that throws
   * now should first leave what it owns in a terminal state (fail the task, release what it
   * reserved), because nobody will handle this event again.
   */
  isLastAttempt(): boolean {
    return this.getDeliveryAttempt() >= this.getMaxAttempts();
  }

  getMessageGroup(): string | undefined {
    return this.args[0].messageGroup;
  }
}
