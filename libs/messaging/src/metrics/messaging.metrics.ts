import { Counter, Gauge, Histogram, register as defaultRegistry, type Registry } from 'prom-client';

const labels = ['group', 'topic', 'tag'] as const;

/** Prometheus metrics of the transport; one instance per registry. */
export class MessagingMetrics {
  readonly received: Counter<(typeof labels)[number]>;
  readonly acked: Counter<(typeof labels)[number]>;
  readonly retried: Counter<(typeof labels)[number]>;
  readonly deadLettered: Counter<(typeof labels)[number] | 'reason'>;
  readonly duplicates: Counter<(typeof labels)[number]>;
  readonly handlerSeconds: Histogram<(typeof labels)[number] | 'outcome'>;
  readonly inFlight: Gauge<'group' | 'topic'>;
  readonly published: Counter<'topic' | 'tag' | 'result'>;
  readonly publishSeconds: Histogram<'topic'>;

  private static readonly byRegistry = new WeakMap<Registry, MessagingMetrics>();

  /** The metrics of a registry, created once (prom-client refuses duplicate names). */
  static for(registry: Registry = defaultRegistry): MessagingMetrics {
    let metrics = MessagingMetrics.byRegistry.get(registry);
    if (!metrics) {
      metrics = new MessagingMetrics(registry);
      MessagingMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    this.received = new Counter({ name: 'aip_messaging_received_total', help: 'Messages received from the broker', labelNames: labels, registers });
    this.acked = new Counter({ name: 'aip_messaging_acked_total', help: 'Messages acknowledged after their handler succeeded', labelNames: labels, registers });
    this.retried = new Counter({ name: 'aip_messaging_retried_total', help: 'Handler failures scheduled for another attempt', labelNames: labels, registers });
    this.deadLettered = new Counter({
      name: 'aip_messaging_dead_lettered_total',
      help: 'Messages sent to the dead-letter topic (reason: schema, attempts)',
      labelNames: [...labels, 'reason'],
      registers,
    });
    this.duplicates = new Counter({ name: 'aip_messaging_duplicates_total', help: 'Redelivered events skipped by the idempotency check', labelNames: labels, registers });
    this.handlerSeconds = new Histogram({
      name: 'aip_messaging_handler_duration_seconds',
      help: 'Handler latency',
      labelNames: [...labels, 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    });
    this.inFlight = new Gauge({ name: 'aip_messaging_in_flight', help: 'Messages held by this instance (received, not yet settled)', labelNames: ['group', 'topic'], registers });
    this.published = new Counter({ name: 'aip_messaging_published_total', help: 'Publish attempts by result', labelNames: ['topic', 'tag', 'result'], registers });
    this.publishSeconds = new Histogram({
      name: 'aip_messaging_publish_duration_seconds',
      help: 'Publish latency until the broker confirmed',
      labelNames: ['topic'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
  }
}
