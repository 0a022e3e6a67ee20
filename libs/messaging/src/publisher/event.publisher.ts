import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import { assertNamespace, createEnvelope, EVENTS, laneTag, namespaced, TOPICS, type Envelope, type EventInput, type EventType } from '@aip/contracts';
import { Producer } from 'rocketmq-client-nodejs';
import type { Logger } from 'pino';
import { clientLogger } from '../common/client-logger.ts';
import { errorMessage, PublishError, withTimeout } from '../common/errors.ts';
import type { RocketMQConnectionOptions } from '../common/rocketmq.options.ts';
import type { MessagingMetrics } from '../metrics/messaging.metrics.ts';

export interface PublishOptions {
  tenantId: string;
  /** Event id; defaults to a new UUID. Reuse it when re-publishing the same event. */
  id?: string;
  /** Overrides the message key the contract derives from the payload. */
  key?: string;
  /** Overrides the FIFO message group the contract derives from the payload. */
  messageGroup?: string;
  /** Delivers the message after this delay (DELAY topics only). */
  delayMs?: number;
  /** W3C trace context; defaults to the active OpenTelemetry context. */
  traceparent?: string;
  /** Extra user properties. */
  properties?: Record<string, string>;
  /** Publishes to another topic of the same message type, named as in the contracts (the connection's namespace is added). */
  topic?: string;
  /** Sends the message to the instance holding this lane of the consumer group (RocketMQServer.followLane). */
  lane?: number;
}

export interface PublishReceipt<T extends EventType = EventType> {
  messageId: string;
  envelope: Envelope<T>;
}

export interface EventPublisherOptions {
  connection: RocketMQConnectionOptions;
  /** Written into every envelope's `source`. */
  source: string;
  /** Upper bound of one publish, retries included; then PublishError('TIMEOUT'). */
  sendTimeoutMs?: number;
  logger: Logger;
  metrics: MessagingMetrics;
}

/**
 * Typed publishing: the event type decides topic, tag, key and message group, the payload is
 * validated against its schema before it leaves, and the trace context travels along.
 */
export class EventPublisher {
  private producer: Producer | undefined;
  private starting: Promise<Producer> | undefined;
  private closed = false;
  private readonly namespace: string;

  constructor(private readonly options: EventPublisherOptions) {
    this.namespace = assertNamespace(options.connection.namespace ?? '');
  }

  /** The broker's name of a topic of the contracts: in the connection's namespace. */
  private topicOf(type: EventType, topic?: string): string {
    return namespaced(this.namespace, topic ?? TOPICS[EVENTS[type].topic].name);
  }

  private async start(): Promise<Producer> {
    const { connection } = this.options;
    const producer = new Producer({
      endpoints: connection.endpoints,
      // Namespaces are name prefixes (topicOf), never the client's own parameter: the proxy ignores it.
      namespace: '',
      sslEnabled: connection.sslEnabled ?? false,
      ...(connection.credentials ? { sessionCredentials: connection.credentials } : {}),
      requestTimeout: connection.requestTimeoutMs ?? 3_000,
      maxAttempts: 2,
      logger: clientLogger(this.options.logger),
    });
    // Started without topics it resolves at once, even with no broker: errors surface on send.
    await producer.startup();
    this.producer = producer;
    return producer;
  }

  private ready(): Promise<Producer> {
    if (this.closed) return Promise.reject(new PublishError('CLOSED', 'the publisher is closed'));
    if (this.producer) return Promise.resolve(this.producer);
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  async publish<T extends EventType>(type: T, data: EventInput<T>, options: PublishOptions): Promise<PublishReceipt<T>> {
    // A PRODUCER span, child of the caller's (or of the trace named in `options.traceparent`);
    // the envelope carries it, so the consumer's span is its child. No-ops while tracing is off.
    const parent = options.traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent: options.traceparent }) : context.active();
    const topic = this.topicOf(type, options.topic);
    const span = tracer.startSpan(`${type} publish`, { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'rocketmq', 'messaging.operation.type': 'send', 'messaging.destination.name': topic, 'aip.event.type': type, 'aip.tenant.id': options.tenantId } }, parent);
    try {
      return await this.publishWithin(type, data, options, trace.setSpan(parent, span));
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
      throw error;
    } finally {
      span.end();
    }
  }

  private async publishWithin<T extends EventType>(type: T, data: EventInput<T>, options: PublishOptions, spanContext: Context): Promise<PublishReceipt<T>> {
    let envelope: Envelope<T>;
    const traceparent = traceparentOf(spanContext) ?? options.traceparent;
    try {
      envelope = createEnvelope(type, data, {
        source: this.options.source,
        tenantId: options.tenantId,
        ...(options.id ? { id: options.id } : {}),
        ...(options.key ? { key: options.key } : {}),
        ...(traceparent ? { traceparent } : {}),
      });
    } catch (error) {
      throw new PublishError('INVALID_EVENT', `invalid ${type}: ${errorMessage(error)}`, { cause: error });
    }
    trace.getSpan(spanContext)?.setAttribute('messaging.message.id', envelope.id);
    return this.publishEnvelope(envelope, options);
  }

  /** Publishes an already-built envelope (replays, relays). */
  async publishEnvelope<T extends EventType>(envelope: Envelope<T>, options: Omit<PublishOptions, 'tenantId' | 'id'> = {}): Promise<PublishReceipt<T>> {
    const spec = EVENTS[envelope.type];
    const topic = this.topicOf(envelope.type, options.topic);
    const derive = (fn: ((data: never) => string) | undefined) => (fn ? fn(envelope.data as never) : undefined);
    const messageGroup = options.messageGroup ?? derive('messageGroup' in spec ? spec.messageGroup : undefined);
    const key = options.key ?? envelope.key ?? derive(spec.key);
    const properties = new Map(Object.entries({ ...options.properties, 'aip-event-id': envelope.id, 'aip-event-type': envelope.type }));
    if (envelope.traceparent) properties.set('traceparent', envelope.traceparent);
    const timeoutMs = this.options.sendTimeoutMs ?? 10_000;
    const started = process.hrtime.bigint();
    const tag = options.lane === undefined ? spec.tag : laneTag(spec.tag, options.lane);
    const labels = { topic, tag: spec.tag };
    try {
      const producer = await this.ready();
      const receipt = await withTimeout(
        producer.send({
          topic,
          tag,
          body: Buffer.from(JSON.stringify(envelope)),
          ...(key ? { keys: [key] } : {}),
          ...(messageGroup ? { messageGroup } : {}),
          ...(options.delayMs ? { delay: options.delayMs } : {}),
          properties,
        }),
        timeoutMs,
        () => new PublishError('TIMEOUT', `no confirmation from the broker for ${envelope.type} on ${topic} within ${timeoutMs} ms`),
      );
      this.options.metrics.published.inc({ ...labels, result: 'ok' });
      this.options.metrics.publishSeconds.observe({ topic }, Number(process.hrtime.bigint() - started) / 1e9);
      return { messageId: receipt.messageId, envelope };
    } catch (error) {
      const failure = toPublishError(error, envelope.type, topic);
      this.options.metrics.published.inc({ ...labels, result: failure.code });
      this.options.logger.warn({ ...labels, eventId: envelope.id, code: failure.code, err: failure.message }, 'publish failed');
      throw failure;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const producer = this.producer ?? (await this.starting?.catch(() => undefined));
    this.producer = undefined;
    await producer?.shutdown().catch(() => undefined);
  }
}

const tracer = trace.getTracer('@aip/messaging');

function traceparentOf(spanContext: Context): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(spanContext, carrier);
  return carrier['traceparent'];
}

/** How a failed send is reported: retryable (broker down, slow, throttling) or not (the message itself was refused). */
export function toPublishError(error: unknown, type: string, topic: string): PublishError {
  if (error instanceof PublishError) return error;
  const message = errorMessage(error);
  // The client throws TypeError when the topic's message type does not match (e.g. FIFO without group).
  if (error instanceof TypeError) return new PublishError('REJECTED', `${type} on ${topic}: ${message}`, { cause: error });
  const code = (error as { code?: unknown }).code;
  // 42900 TOO_MANY_REQUESTS: the broker is shedding load; the same message may go through shortly.
  if (code === 42_900) return new PublishError('THROTTLED', `${type} on ${topic}: ${message}`, { cause: error });
  if (typeof code === 'number' && code >= 40_000 && code < 50_000) return new PublishError('REJECTED', `${type} on ${topic}: ${message}`, { cause: error });
  return new PublishError('BROKER_UNAVAILABLE', `cannot publish ${type} to ${topic}: ${message}`, { cause: error });
}
