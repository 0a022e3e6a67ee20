// The operators' view as code: Prometheus alert rules (a PrometheusRule, in the service-monitors
// component beside the ServiceMonitors that feed it) and a Grafana dashboard. tests/deploy checks
// that the committed files are these, and that every metric they read is one the apps export.

/** One alert: what it watches (PromQL), how long before it fires, how loud, and what to do. */
interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  severity: 'page' | 'ticket' | 'info';
  summary: string;
  description: string;
}

export const ALERT_RULES: readonly AlertRule[] = [
  {
    alert: 'AipHighErrorRate',
    expr: 'sum(rate(aip_http_requests_total{status=~"5.."}[5m])) / clamp_min(sum(rate(aip_http_requests_total[5m])), 1e-9) > 0.05',
    for: '10m',
    severity: 'page',
    summary: 'More than 5 % of API requests fail with 5xx',
    description: 'Check the readiness of the apps (broker, Redis), then the inference workers and the providers (aip_inference_generations_total by outcome).',
  },
  {
    alert: 'AipTimeToFirstTokenP99High',
    expr: 'histogram_quantile(0.99, sum by (le, model) (rate(aip_inference_time_to_first_token_seconds_bucket[5m]))) > 5',
    for: '10m',
    severity: 'ticket',
    summary: 'p99 time to first token of {{ $labels.model }} is above 5 s',
    description: 'Slow provider (see the provider spans of the traces) or workers short of slots (aip_messaging_in_flight of group inference).',
  },
  {
    alert: 'AipConsumerBacklog',
    expr: 'sum by (group) (aip_messaging_in_flight) > 200',
    for: '10m',
    severity: 'ticket',
    summary: 'Consumer group {{ $labels.group }} holds more than 200 messages in flight',
    description: 'Its handlers are slower than what arrives: scale the app, or look for a slow dependency in its handler durations (aip_messaging_handler_duration_seconds).',
  },
  {
    alert: 'AipDeadLetters',
    expr: 'sum by (group) (increase(aip_messaging_dead_lettered_total[15m])) > 0',
    for: '0m',
    severity: 'ticket',
    summary: 'Messages of {{ $labels.group }} were dead-lettered',
    description: 'Read them with `npm run dlq -- list` (docs/reliability.md): poison messages, or a dependency that failed every attempt.',
  },
  {
    alert: 'AipBudgetThreshold',
    expr: 'sum(increase(aip_admission_decisions_total{outcome="budget_threshold"}[10m])) > 0',
    for: '0m',
    severity: 'info',
    summary: 'A spend budget crossed its soft limit',
    description: 'GET /admin/budgets names the budget and its spend; the ai.budget.threshold event on ai-lifecycle says which.',
  },
  {
    alert: 'AipBudgetRefusals',
    expr: 'sum(rate(aip_admission_decisions_total{outcome="rejected",reason="budget_exceeded"}[10m])) > 0',
    for: '5m',
    severity: 'ticket',
    summary: 'Requests are refused because a spend budget is spent',
    description: 'A tenant, key or model reached its hard limit (GET /admin/budgets); raise it or tell the tenant.',
  },
];

export function prometheusRule(): Record<string, unknown> {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'aip', labels: { 'app.kubernetes.io/part-of': 'aip' } },
    spec: {
      groups: [
        {
          name: 'aip',
          rules: ALERT_RULES.map((rule) => ({ alert: rule.alert, expr: rule.expr, for: rule.for, labels: { severity: rule.severity }, annotations: { summary: rule.summary, description: rule.description } })),
        },
      ],
    },
  };
}

/** One time series panel: a title, its queries (legend per label set) and its unit. */
interface Panel {
  title: string;
  unit: string;
  targets: { expr: string; legend: string }[];
}

const ROWS: { title: string; panels: Panel[] }[] = [
  {
    title: 'Requests',
    panels: [
      { title: 'API requests by route and status', unit: 'reqps', targets: [{ expr: 'sum by (route, status) (rate(aip_http_requests_total[$__rate_interval]))', legend: '{{route}} {{status}}' }] },
      {
        title: 'Time to first token (p50, p99) by model',
        unit: 's',
        targets: [
          { expr: 'histogram_quantile(0.5, sum by (le, model) (rate(aip_inference_time_to_first_token_seconds_bucket[$__rate_interval])))', legend: 'p50 {{model}}' },
          { expr: 'histogram_quantile(0.99, sum by (le, model) (rate(aip_inference_time_to_first_token_seconds_bucket[$__rate_interval])))', legend: 'p99 {{model}}' },
        ],
      },
      { title: 'Generations by model, provider and outcome', unit: 'reqps', targets: [{ expr: 'sum by (model, provider, outcome) (rate(aip_inference_generations_total[$__rate_interval]))', legend: '{{model}} {{provider}} {{outcome}}' }] },
    ],
  },
  {
    title: 'Tokens and cost',
    panels: [
      { title: 'Tokens by model and kind', unit: 'short', targets: [{ expr: 'sum by (model, kind) (rate(aip_inference_tokens_total[$__rate_interval]))', legend: '{{model}} {{kind}}' }] },
      { title: 'Cost by model and provider (US dollars per hour)', unit: 'currencyUSD', targets: [{ expr: 'sum by (model, provider) (rate(aip_usage_cost_dollars_total[$__rate_interval])) * 3600', legend: '{{model}} {{provider}}' }] },
      { title: 'Usage ledger rows by status', unit: 'reqps', targets: [{ expr: 'sum by (status) (rate(aip_usage_rows_total[$__rate_interval]))', legend: '{{status}}' }] },
    ],
  },
  {
    title: 'Admission',
    panels: [
      { title: 'Limiter decisions by outcome and reason', unit: 'reqps', targets: [{ expr: 'sum by (outcome, reason) (rate(aip_admission_decisions_total[$__rate_interval]))', legend: '{{outcome}} {{reason}}' }] },
      { title: 'Edge admissions (direct or handed to the limiter)', unit: 'reqps', targets: [{ expr: 'sum by (path, reason) (rate(aip_edge_admissions_total[$__rate_interval]))', legend: '{{path}} {{reason}}' }] },
      { title: 'Session affinity choices', unit: 'reqps', targets: [{ expr: 'sum by (reason) (rate(aip_affinity_choices_total[$__rate_interval]))', legend: '{{reason}}' }] },
    ],
  },
  {
    title: 'Broker',
    panels: [
      { title: 'Messages in flight by consumer group', unit: 'short', targets: [{ expr: 'sum by (group) (aip_messaging_in_flight)', legend: '{{group}}' }] },
      { title: 'Dead letters by group', unit: 'short', targets: [{ expr: 'sum by (group) (increase(aip_messaging_dead_lettered_total[$__rate_interval]))', legend: '{{group}}' }] },
      { title: 'Publish p99 by topic', unit: 's', targets: [{ expr: 'histogram_quantile(0.99, sum by (le, topic) (rate(aip_messaging_publish_duration_seconds_bucket[$__rate_interval])))', legend: '{{topic}}' }] },
    ],
  },
  {
    title: 'Realtime and knowledge',
    panels: [
      {
        title: 'Pushes delivered, acknowledged and resent',
        unit: 'reqps',
        targets: [
          { expr: 'sum(rate(aip_rtc_pushes_delivered_total[$__rate_interval]))', legend: 'delivered' },
          { expr: 'sum(rate(aip_rtc_pushes_acked_total[$__rate_interval]))', legend: 'acked' },
          { expr: 'sum(rate(aip_rtc_pushes_resent_total[$__rate_interval]))', legend: 'resent' },
        ],
      },
      { title: 'Open realtime connections', unit: 'short', targets: [{ expr: 'sum(aip_rtc_connections)', legend: 'connections' }] },
      {
        title: 'Knowledge ingest: documents by outcome, chunks embedded or reused',
        unit: 'short',
        targets: [
          { expr: 'sum by (outcome) (rate(aip_kb_documents_total[$__rate_interval]))', legend: 'documents {{outcome}}' },
          { expr: 'sum by (kind) (rate(aip_kb_chunks_total[$__rate_interval]))', legend: 'chunks {{kind}}' },
        ],
      },
      { title: 'Time to index a document (p95)', unit: 's', targets: [{ expr: 'histogram_quantile(0.95, sum by (le) (rate(aip_kb_ingest_seconds_bucket[$__rate_interval])))', legend: 'p95' }] },
    ],
  },
];

/** The Grafana dashboard (JSON model, Prometheus as the `datasource` variable). */
export function grafanaDashboard(): Record<string, unknown> {
  let id = 0;
  let y = 0;
  const panels: Record<string, unknown>[] = [];
  for (const row of ROWS) {
    panels.push({ id: ++id, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: y++ }, panels: [] });
    row.panels.forEach((panel, index) => {
      panels.push({
        id: ++id,
        type: 'timeseries',
        title: panel.title,
        datasource: { type: 'prometheus', uid: '${datasource}' },
        gridPos: { h: 8, w: 8, x: (index % 3) * 8, y: y + Math.floor(index / 3) * 8 },
        fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
        options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
        targets: panel.targets.map((target, ref) => ({ refId: String.fromCharCode(65 + ref), expr: target.expr, legendFormat: target.legend, datasource: { type: 'prometheus', uid: '${datasource}' } })),
      });
    });
    y += Math.ceil(row.panels.length / 3) * 8;
  }
  return {
    uid: 'aip-overview',
    title: 'AI platform — overview',
    tags: ['aip'],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' }] },
    panels,
  };
}

/** Every PromQL expression of the rules and the dashboard (the tests check the metrics they read). */
export function observabilityQueries(): string[] {
  return [...ALERT_RULES.map((rule) => rule.expr), ...ROWS.flatMap((row) => row.panels.flatMap((panel) => panel.targets.map((target) => target.expr)))];
}
