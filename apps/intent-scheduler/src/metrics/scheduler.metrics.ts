import { Counter, Histogram, register as defaultRegistry, type Registry } from 'prom-client';

/** Prometheus metrics of the scheduler; one instance per registry (prom-client refuses duplicates). */
export class SchedulerMetrics {
  /** Every decision: outcome sent | suppressed | deferred | failed, with the reason (`none` when sent). */
  readonly decisions: Counter<'intent' | 'outcome' | 'reason'>;
  readonly classifications: Counter<'classifier' | 'intent'>;
  readonly shards: Counter<'result'>;
  readonly tickSeconds: Histogram;
  readonly catalogueLoads: Counter<'result'>;

  private static readonly byRegistry = new WeakMap<Registry, SchedulerMetrics>();

  static for(registry: Registry = defaultRegistry): SchedulerMetrics {
    let metrics = SchedulerMetrics.byRegistry.get(registry);
    if (!metrics) {
      metrics = new SchedulerMetrics(registry);
      SchedulerMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    this.decisions = new Counter({ name: 'aip_proactive_decisions_total', help: 'Proactive prompt and notice decisions by intent, outcome and reason', labelNames: ['intent', 'outcome', 'reason'], registers });
    this.classifications = new Counter({ name: 'aip_intent_classifications_total', help: 'Analysed sessions by classifier and intent (none = no clear intent)', labelNames: ['classifier', 'intent'], registers });
    this.shards = new Counter({ name: 'aip_intent_shard_runs_total', help: 'Shard attempts per tick: worked, locked (another replica has it), recent (worked lately), lost (lock lost mid-run), error', labelNames: ['result'], registers });
    this.catalogueLoads = new Counter({ name: 'aip_intent_catalogue_loads_total', help: 'Intent catalogue documents seen: applied or refused (invalid; the previous one stays)', labelNames: ['result'], registers });
    this.tickSeconds = new Histogram({ name: 'aip_intent_tick_duration_seconds', help: 'Duration of one tick of this replica', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers });
  }
}
