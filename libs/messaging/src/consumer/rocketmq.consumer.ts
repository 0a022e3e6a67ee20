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

/**
 * A SimpleConsumer for one (group, topic) pair. One consumer per topic because each receive()
 * of a multi-topic SimpleConsumer polls one topic in turn. Group and topic are the broker's names
 * (the server has put them in the connection's namespace already).
 */
export class RocketMQConsumer implements ConsumerPort {
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

  async ack(message: MessageView): Promise<void> {
    await this.consumer.ack(message);
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
