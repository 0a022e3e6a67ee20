import { randomUUID } from 'node:crypto';
import { EventPattern, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { context as otelContext, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  assertNamespace,
  CONSUMER_GROUPS,
  eventTagOf,
  EVENTS,
  isEventType,
  laneGroup,
  laneTag,
  namespaced,
  parseEnvelope,
  TOPICS,
  type Envelope,
  type EventType,
} from '@aip/contracts';
import type { MessageView } from 'rocketmq-client-nodejs';
import { pino, type Logger } from 'pino';
import { isObservable, lastValueFrom } from 'rxjs';
import { errorMessage } from '../common/errors.ts';
import { DEFAULT_BACKOFF, type RetryBackoff, type RocketMQConnectionOptions } from '../common/rocketmq.options.ts';
import { RocketMQConsumer } from '../consumer/rocketmq.consumer.ts';
import { SlotPool } from '../consumer/slot-pool.ts';
import { PoisonMessageError, Subscription, type Lease } from '../consumer/subscription.ts';
import { RocketMQContext } from '../ctx-host/rocketmq.context.ts';
import type { BrokerHealth } from '../health/rocketmq.health.ts';
import type { IdempotencyStore } from '../idempotency/idempotency.store.ts';
import { MessagingMetrics } from '../metrics/messaging.metrics.ts';

const tracer = trace.getTracer('@aip/messaging');

/** How long a handler keeps being retried in-process across Redis outages before its failure counts. */
const OUTAGE_RETRY_LIMIT_MS = 60_000;
const OUTAGE_RETRY_PAUSE_MS = 250;

export const ROCKETMQ_TRANSPORT = Symbol('ROCKETMQ_TRANSPORT');

/**
 * Per-handler settings: `@RocketMQEvent('kb.change.upsert', { concurrency: 4 })`. Group and topic
 * are named as in the contracts; the server puts them in its connection's namespace.
 */
export interface RocketMQHandlerExtras {
  /** Consumer group; defaults to the server's group. */
  group?: string;
  /** Topic to consume; defaults to the event's topic in the contracts. */
  topic?: string;
  /** Messages of this subscription handled at once. */
  concurrency?: number;
  /** Invisible duration while handling; renewed while the handler runs. */
  leaseMs?: number;
  /** Delivery attempts before dead letter; defaults to the group's setting in the contracts. */
  maxAttempts?: number;
  /** Skip the Redis idempotency check for this handler (it is idempotent by itself). */
  idempotent?: boolean;
  /** Lane groups of the group; defaults to the group's `lanes` in the contracts. */
  lanes?: number;
}

export interface RocketMQServerOptions {
  /** The broker, and the namespace every group and topic below is put in. */
  connection: RocketMQConnectionOptions;
  /** The app's consumer group, named as in the contracts (`CONSUMER_GROUPS`). */
  group: string;
  concurrency?: number;
  leaseMs?: number;
  pollWaitMs?: number;
  maxBatch?: number;
  drainTimeoutMs?: number;
  /**
   * How long a consumer waits for the proxy's first settings before it gives up and retries
   * (default 10 s: on a loaded 2-core machine a healthy start-up took more than 4 s, and a
   * shorter timeout then never let it finish).
   */
  startupTimeoutMs?: number;
  backoff?: RetryBackoff;
  /** When set, every handler runs at most once per event id and group. */
  idempotency?: IdempotencyStore;
  health?: BrokerHealth;
  logger?: Logger;
  metrics?: MessagingMetrics;
}

/** A typed `@EventPattern`: the handler's payload must be the envelope of that event type. */
export function RocketMQEvent<T extends EventType>(type: T, extras: RocketMQHandlerExtras = {}) {
  return <M extends (event: Envelope<T>, context: RocketMQContext) => unknown>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ) => {
    EventPattern(type, { ...extras })(target, key, descriptor as PropertyDescriptor);
  };
}

interface SubscriptionPlan {
  /** Group and topic as the contracts name them: their settings (lanes, attempts) are looked up by these. */
  group: string;
  topic: string;
  /** The broker's names: group and topic in the connection's namespace. */
  brokerGroup: string;
  brokerTopic: string;
  fifo: boolean;
  types: Map<string, EventType>;
  extras: RocketMQHandlerExtras;
  /** Lane groups of `group` (contracts), 0 when it has none. */
  lanes: number;
  /** Shared by the plan's own subscription and its lanes'. */
  slots?: SlotPool;
}

/** A lane this instance consumes: `stop()` drains and closes its subscriptions. */
export interface LaneSubscription {
  readonly lane: number;
  /** Every group of the lane has completed a receive: what is routed there now reaches this instance. */
  isUp(): boolean;
  /**
   * Since when every group of the lane has been receiving with nothing delivered and nothing in
   * hand; undefined while any is not connected or holds messages.
   */
  quietSince(): number | undefined;
  stop(): Promise<void>;
}


/**
 * NestJS transport strategy for RocketMQ 5 (through the proxy's gRPC API):
 * `app.connectMicroservice({ strategy: new RocketMQServer({...}) })`.
 * Handlers are `@RocketMQEvent(type)` / `@EventPattern(type)` methods that receive the validated
 * envelope; the transport subscribes, validates, acks, retries and dead-letters.
 */
export class RocketMQServer extends Server implements CustomTransportStrategy {
  override readonly transportId = ROCKETMQ_TRANSPORT;
  /** Handler errors reach the transport as they are, so it can retry or dead-letter. */
  override readonly propagatesEventHandlerErrors = true;
  private readonly subscriptions: Subscription[] = [];
  private plans: SubscriptionPlan[] = [];
  private readonly log: Logger;
  private readonly metrics: MessagingMetrics;
  private readonly namespace: string;
  private health: BrokerHealth | undefined;
  private markListening: () => void = () => undefined;
  /** Resolves once the handlers are subscribed (lanes can be followed from then on). */
  readonly listening = new Promise<void>((resolve) => (this.markListening = resolve));

  constructor(private readonly options: RocketMQServerOptions) {
    super();
    this.log = options.logger ?? pino({ name: 'rocketmq' });
    this.metrics = options.metrics ?? MessagingMetrics.for();
    this.namespace = assertNamespace(options.connection.namespace ?? '');
    this.health = options.health;
  }

  /** Reports each subscription's state to `health` (the app's readiness), from the next start on. */
  reportTo(health: BrokerHealth): void {
    this.health = health;
  }

  override listen(callback: (...optionalParams: unknown[]) => void): void {
    try {
      this.plans = this.plan();
      for (const plan of this.plans) this.subscribe(plan);
      this.markListening();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** Stops receiving, drains in-flight messages, closes the consumers. */
  override async close(): Promise<void> {
    await Promise.all(this.subscriptions.map((subscription) => subscription.stop()));
    this.subscriptions.length = 0;
  }

  override on(): never {
    throw new Error('RocketMQServer does not emit events; watch health and metrics instead');
  }

  override unwrap<T>(): T {
    return this.subscriptions as T;
  }

  get inFlight(): number {
    return this.subscriptions.reduce((sum, subscription) => sum + subscription.inFlight, 0);
  }

  /** Lanes of the handled groups (contracts); 0 when no handler's group has any. */
  get lanes(): number {
    return Math.max(0, ...this.plans.map((plan) => plan.lanes));
  }

  /**
   * Also consumes lane `lane` of every laned group this server handles: messages published with
   * `{ lane }` reach this instance alone, and share the handler's slots with its group's.
   */
  followLane(lane: number): LaneSubscription {
    const laned = this.plans.filter((plan) => lane >= 0 && lane < plan.lanes);
    if (laned.length === 0) throw new RangeError(`no handled group has lane ${lane}`);
    const subscriptions = laned.map((plan) => this.subscribe(plan, lane));
    return {
      lane,
      isUp: () => subscriptions.every((subscription) => subscription.currentState === 'up'),
      quietSince: () => {
        const since = subscriptions.map((subscription) => subscription.quietSince);
        return since.some((at) => at === undefined) ? undefined : Math.max(...(since as number[]));
      },
      stop: async () => {
        await Promise.all(subscriptions.map((subscription) => subscription.stop()));
        for (const subscription of subscriptions) {
          const index = this.subscriptions.indexOf(subscription);
          if (index >= 0) this.subscriptions.splice(index, 1); // close() may have cleared the list already
        }
      },
    };
  }

  /** One subscription per (group, topic): a group must subscribe consistently to a topic. */
  private plan(): SubscriptionPlan[] {
    const plans = new Map<string, SubscriptionPlan>();
    for (const [pattern, handler] of this.messageHandlers) {
      if (!handler.isEventHandler) throw new Error(`RocketMQ carries events only: @MessagePattern(${pattern}) is not supported`);
      if (!isEventType(pattern)) throw new Error(`@EventPattern(${pattern}): unknown event type; declare it in libs/contracts`);
      const extras: RocketMQHandlerExtras = handler.extras ?? {};
      const spec = EVENTS[pattern];
      const topic = extras.topic ?? TOPICS[spec.topic].name;
      const group = extras.group ?? this.options.group;
      const key = `${group}|${topic}`;
      const lanes = extras.lanes ?? (Object.values(CONSUMER_GROUPS) as { name: string; lanes?: number }[]).find((g) => g.name === group)?.lanes ?? 0;
      const plan: SubscriptionPlan = plans.get(key) ?? {
        group,
        topic,
        brokerGroup: namespaced(this.namespace, group),
        brokerTopic: namespaced(this.namespace, topic),
        fifo: TOPICS[spec.topic].messageType === 'FIFO',
        types: new Map(),
        extras: {},
        lanes,
      };
      plan.types.set(spec.tag, pattern);
      // Handlers sharing a subscription share its slots: the largest setting wins.
      plan.extras = {
        ...plan.extras,
        ...extras,
        concurrency: Math.max(plan.extras.concurrency ?? 0, extras.concurrency ?? 0) || undefined,
      };
      plans.set(key, plan);
    }
    return [...plans.values()];
  }

  private subscribe(plan: SubscriptionPlan, lane?: number): Subscription {
    const { options } = this;
    const { brokerTopic: topic, extras } = plan;
    const maxAttempts = this.maxAttemptsOf(plan);
    // The lane of the namespaced group is the namespaced lane group (laneGroup and namespaced commute).
    const group = lane === undefined ? plan.brokerGroup : laneGroup(plan.brokerGroup, lane);
    const filter = [...plan.types.keys()].map((tag) => (lane === undefined ? tag : laneTag(tag, lane))).join('||');
    const concurrency = extras.concurrency ?? options.concurrency ?? 16;
    if (plan.lanes > 0) plan.slots ??= new SlotPool(concurrency);
    const pollWaitMs = options.pollWaitMs ?? 5_000;
    const name = `${group}/${topic}`;
    const logger = this.log.child({ group, topic });
    const subscription = new Subscription({
      group,
      topic,
      fifo: plan.fifo,
      concurrency,
      ...(plan.slots ? { slots: plan.slots } : {}),
      leaseMs: extras.leaseMs ?? options.leaseMs ?? 30_000,
      maxAttempts,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      pollWaitMs,
      maxBatch: options.maxBatch ?? 32,
      drainTimeoutMs: options.drainTimeoutMs ?? 30_000,
      logger,
      metrics: this.metrics,
      connect: async () => {
        const consumer = await RocketMQConsumer.start({
          connection: options.connection,
          group,
          topic,
          filter,
          pollWaitMs,
          startupTimeoutMs: options.startupTimeoutMs ?? 10_000,
          logger,
        });
        logger.info({ filter, maxAttempts }, 'subscribed');
        return consumer;
      },
      dispatch: (message, lease) => this.dispatch(plan, message, lease),
      onStateChange: (state, error) => this.health?.report(name, state, error),
    });
    this.health?.report(name, 'connecting');
    this.subscriptions.push(subscription);
    subscription.start();
    return subscription;
  }

  /**
   * A handler that failed while Redis was unreachable did not fail because of its message: it runs
   * again, with the message still held (its lease renewed), once Redis answers, instead of spending
   * one of the message's few delivery attempts on the outage. Found by the chaos suite: three Redis
   * restarts a few seconds apart used up an inference request's three attempts, and its task was
   * never ended. Up to OUTAGE_RETRY_LIMIT_MS, then the failure counts as usual.
   */
  private async outlastingRedisOutages<T>(idempotency: IdempotencyStore, plan: SubscriptionPlan, envelope: Envelope, attempt: () => Promise<T>): Promise<T> {
    const since = Date.now();
    for (;;) {
      const started = Date.now();
      try {
        return await attempt();
      } catch (error) {
        if (!idempotency.outageSince(started) || Date.now() - since > OUTAGE_RETRY_LIMIT_MS) throw error;
        this.log.warn({ group: plan.brokerGroup, eventId: envelope.id, err: errorMessage(error) }, 'handler failed while Redis was unreachable: running it again once Redis answers');
        await idempotency.reachable(OUTAGE_RETRY_LIMIT_MS);
        await new Promise((resolve) => setTimeout(resolve, OUTAGE_RETRY_PAUSE_MS));
      }
    }
  }

  private maxAttemptsOf(plan: SubscriptionPlan): number {
    const groupSpec = Object.values(CONSUMER_GROUPS).find((g) => g.name === plan.group);
    return plan.extras.maxAttempts ?? groupSpec?.maxAttempts ?? 16;
  }

  private async dispatch(plan: SubscriptionPlan, message: MessageView, lease: Lease): Promise<void> {
    const type = plan.types.get(eventTagOf(message.tag ?? ''));
    if (!type) throw new PoisonMessageError(`no handler for tag "${message.tag}" on ${plan.brokerTopic}`);
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(message.body, type);
    } catch (error) {
      throw new PoisonMessageError(`${type}: ${errorMessage(error)}`, { cause: error });
    }
    const handler = this.getHandlerByPattern(type);
    if (!handler) throw new PoisonMessageError(`no handler registered for ${type}`);
    const ctx = new RocketMQContext([message, envelope, plan.brokerGroup, this.maxAttemptsOf(plan)]);
    const carrier = envelope.traceparent ? { traceparent: envelope.traceparent } : {};
    // A CONSUMER span per handling, child of the publisher's span the envelope carries.
    const run = () => {
      const parent = propagation.extract(ROOT_CONTEXT, carrier);
      const span = tracer.startSpan(`${type} process`, {
        kind: SpanKind.CONSUMER,
        attributes: { 'messaging.system': 'rocketmq', 'messaging.operation.type': 'process', 'messaging.destination.name': plan.brokerTopic, 'messaging.consumer.group.name': plan.brokerGroup, 'messaging.message.id': envelope.id, 'aip.event.type': type, 'aip.tenant.id': envelope.tenantId, 'aip.delivery.attempt': ctx.getDeliveryAttempt() },
      }, parent);
      return otelContext.with(trace.setSpan(parent, span), async () => {
        try {
          const result: unknown = await handler(envelope, ctx);
          if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
          throw error;
        } finally {
          span.end();
        }
      });
    };

    const idempotency = plan.extras.idempotent === false ? undefined : this.options.idempotency;
    if (!idempotency) return run();
    const holder = randomUUID();
    // Per broker group: two namespaces sharing a Redis prefix never skip each other's events.
    lease.onRenew(() => idempotency.renew(plan.brokerGroup, envelope.id, holder));
    const outcome = await this.outlastingRedisOutages(idempotency, plan, envelope, () => idempotency.once(plan.brokerGroup, envelope.id, run, holder));
    if (outcome === 'skipped') {
      this.metrics.duplicates.inc({ group: plan.brokerGroup, topic: plan.brokerTopic, tag: message.tag ?? '' });
      this.log.info({ group: plan.brokerGroup, eventId: envelope.id, type }, 'duplicate delivery skipped');
    }
  }
}
