import type { MessageView } from 'rocketmq-client-nodejs';

/** What a subscription needs from a RocketMQ consumer; the adapter is RocketMQConsumer. */
export interface ConsumerPort {
  receive(maxMessages: number, invisibleMs: number): Promise<MessageView[]>;
  ack(message: MessageView): Promise<void>;
  /** Makes the message invisible for `ms` from now (lease renewal, retry backoff, release). */
  changeInvisibleDuration(message: MessageView, ms: number): Promise<void>;
  /** Moves the message to the group's dead-letter topic now. */
  forwardToDeadLetter(message: MessageView, maxAttempts: number): Promise<void>;
  shutdown(): Promise<void>;
}
