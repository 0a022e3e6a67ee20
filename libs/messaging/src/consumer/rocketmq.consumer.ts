import { SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import servicePb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import definitionPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import type { Logger } from 'pino';
import { clientLogger } from '../common/client-logger.ts';
import { withTimeout } from '../common/errors.ts';
import type { RocketMQConnectionOptions } from '../common/rocketmq.options.ts';
import type { ConsumerPort } from './consumer.port.ts';

export class ConsumerStartupError extends Error {
  override readonly name = 'ConsumerStartupError';
}

/** Most entries one ack request carries. */
const MAX_ACK_BATCH = 64;

interface PendingAck {
  readonly message: MessageView;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * A SimpleConsumer for one (group, topic) pair. One consumer per topic because each receive()
 * of a multi-topic SimpleConsumer polls one topic in turn. Group and topic are the broker's names
 * (the server has put them in the connection's namespace already).
 */
export class RocketMQConsumer implements ConsumerPort {
  private pendingAcks: PendingAck[] = [];
  private flushScheduled = false;

  private constructor(
    private readonly consumer: SimpleConsumer,
    private readonly requestTimeoutMs: number,
  ) {}

  /**
   * Starts a consumer; fails after `startupTimeoutMs` instead of waiting forever for the
   * proxy's settings (the client has no timeout of its own there).
   */
  static async start(options: {
    connection: RocketMQConnectionOptions;
    group: string;
    topic: string;
    filter: string;
    pollWaitMs: number;
    startupTimeoutMs: number;
    logger: Logger;
  }): Promise<RocketMQConsumer> {
    const { connection } = options;
    const requestTimeoutMs = connection.requestTimeoutMs ?? 3_000;
    const consumer = new SimpleConsumer({
      endpoints: connection.endpoints,
      // Namespaces are name prefixes, never the client's own parameter: the proxy ignores it.
      namespace: '',
      sslEnabled: connection.sslEnabled ?? false,
      ...(connection.credentials ? { sessionCredentials: connection.credentials } : {}),
      requestTimeout: requestTimeoutMs,
      consumerGroup: options.group,
      subscriptions: new Map([[options.topic, options.filter]]),
      awaitDuration: options.pollWaitMs,
      logger: clientLogger(options.logger),
    });
    try {
      await withTimeout(
        consumer.startup(),
        options.startupTimeoutMs,
        () => new ConsumerStartupError(`no answer from the RocketMQ proxy at ${connection.endpoints} within ${options.startupTimeoutMs} ms`),
      );
    } catch (error) {
      void consumer.shutdown().catch(() => undefined);
      throw error;
    }
    return new RocketMQConsumer(consumer, requestTimeoutMs);
  }

  receive(maxMessages: number, invisibleMs: number): Promise<MessageView[]> {
    return this.consumer.receive(maxMessages, invisibleMs);
  }

  /**
   * Acks the message together with every other ack asked for in the same turn of the event loop:
   * one AckMessageRequest per topic and proxy carries all of them (the protocol takes a list), so a
   * busy consumer sends far fewer RPCs than messages, and nothing waits for a timer. Resolves or
   * rejects per message, from the entry the proxy answered for it.
   */
  ack(message: MessageView): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingAcks.push({ message, resolve, reject });
      if (this.pendingAcks.length >= MAX_ACK_BATCH) this.flushAcks();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flushAcks());
      }
    });
  }

  private flushAcks(): void {
    this.flushScheduled = false;
    const byTarget = new Map<string, PendingAck[]>();
    for (const pending of this.pendingAcks.splice(0)) {
      const target = `${pending.message.topic}\n${String(pending.message.endpoints)}`;
      byTarget.set(target, [...(byTarget.get(target) ?? []), pending]);
    }
    for (const batch of byTarget.values()) void this.ackBatch(batch);
  }

  private async ackBatch(batch: readonly PendingAck[]): Promise<void> {
    const first = batch[0]!.message;
    const request = new servicePb.AckMessageRequest().setGroup(new definitionPb.Resource().setName(this.consumer.getConsumerGroup())).setTopic(new definitionPb.Resource().setName(first.topic));
    for (const { message } of batch) request.addEntries().setMessageId(message.messageId).setReceiptHandle(message.receiptHandle);
    try {
      const response = await this.consumer.ackMessageViaRpc(first.endpoints, request, this.requestTimeoutMs);
      const status = response.getStatus();
      const code = status?.getCode();
      // One entry per message; a single-entry request may be answered by the status alone.
      const entries = new Map(response.getEntriesList().map((entry) => [entry.getReceiptHandle(), entry.getStatus()]));
      for (const pending of batch) {
        const own = entries.get(pending.message.receiptHandle);
        const ownCode = own ? own.getCode() : code;
        if (ownCode === definitionPb.Code.OK) pending.resolve();
        else pending.reject(new Error(`ack refused: ${ownCode} ${(own ?? status)?.getMessage() ?? ''}`));
      }
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }

  changeInvisibleDuration(message: MessageView, ms: number): Promise<void> {
    return this.consumer.changeInvisibleDuration(message, ms);
  }

  async forwardToDeadLetter(message: MessageView, maxAttempts: number): Promise<void> {
    const request = new servicePb.ForwardMessageToDeadLetterQueueRequest()
      .setGroup(new definitionPb.Resource().setName(this.consumer.getConsumerGroup()))
      .setTopic(new definitionPb.Resource().setName(message.topic))
      .setReceiptHandle(message.receiptHandle)
      .setMessageId(message.messageId)
      .setDeliveryAttempt(message.deliveryAttempt ?? 1)
      .setMaxDeliveryAttempts(maxAttempts);
    const response = await this.consumer.forwardMessageToDeadLetterQueueViaRpc(message.endpoints, request, this.requestTimeoutMs);
    const status = response.getStatus();
    if (!status || status.getCode() !== definitionPb.Code.OK) {
      throw new Error(`dead-letter forward refused: ${status?.getCode()} ${status?.getMessage() ?? ''}`);
    }
  }

  shutdown(): Promise<void> {
    return this.consumer.shutdown();
  }
}
