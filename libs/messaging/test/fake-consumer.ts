import type { MessageView } from 'rocketmq-client-nodejs';
import type { ConsumerPort } from '../src/consumer/consumer.port.ts';

export type FakeConsumerCall = { op: 'ack' | 'change' | 'dlq'; id: string; ms?: number };

/** An in-memory stand-in for the broker side of one consumer, recording what the engine asks. */
export class FakeConsumer implements ConsumerPort {
  readonly queue: MessageView[] = [];
  readonly receiveSizes: number[] = [];
  readonly calls: FakeConsumerCall[] = [];
  private waiter: (() => void) | undefined;

  push(...messages: MessageView[]) {
    this.queue.push(...messages);
    this.waiter?.();
  }

  async receive(maxMessages: number): Promise<MessageView[]> {
    this.receiveSizes.push(maxMessages);
    if (this.queue.length === 0) await new Promise<void>((resolve) => { this.waiter = resolve; setTimeout(resolve, 20); });
    return this.queue.splice(0, maxMessages);
  }
  async ack(message: MessageView) { this.calls.push({ op: 'ack', id: message.messageId }); }
  async changeInvisibleDuration(message: MessageView, ms: number) { this.calls.push({ op: 'change', id: message.messageId, ms }); }
  async forwardToDeadLetter(message: MessageView) { this.calls.push({ op: 'dlq', id: message.messageId }); }
  async shutdown() {}
}

let sequence = 0;
/** A received message: id, topic 't', tag 'x', first delivery, body `{}` unless overridden. */
export function message(overrides: Partial<MessageView> = {}): MessageView {
  return { messageId: `m${++sequence}`, topic: 't', tag: 'x', deliveryAttempt: 1, body: Buffer.from('{}'), ...overrides } as MessageView;
}
