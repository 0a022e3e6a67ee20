import { collectDefaultMetrics, Counter, Histogram, register } from 'prom-client';

let defaultsCollected = false;

/** Process metrics (CPU, memory, event-loop lag, GC) once per process. */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ prefix: 'aip_' });
}

/** What operators watch on the request path; one instance per process (prom-client refuses duplicates). */
export const appMetrics = {
  httpRequests: new Counter({ name: 'aip_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [register] }),
  configErrors: new Counter({ name: 'aip_config_document_errors_total', help: 'Run-time documents that could not be read or applied (the previous version stays), by document', labelNames: ['document'], registers: [register] }),
  admissions: new Counter({ name: 'aip_admission_decisions_total', help: 'Admission decisions by outcome and reason', labelNames: ['outcome', 'reason'], registers: [register] }),
  workerChoices: new Counter({ name: 'aip_affinity_choices_total', help: 'Session-affinity worker choices by reason (sticky, new, rebalanced, failover, none)', labelNames: ['reason'], registers: [register] }),
  generations: new Counter({ name: 'aip_inference_generations_total', help: 'Generations by model, provider and outcome', labelNames: ['model', 'provider', 'outcome'], registers: [register] }),
  tokens: new Counter({ name: 'aip_inference_tokens_total', help: 'Tokens by model, provider and kind (prompt, completion)', labelNames: ['model', 'provider', 'kind'], registers: [register] }),
  timeToFirstToken: new Histogram({
    name: 'aip_inference_time_to_first_token_seconds',
    help: 'From the worker taking the request to the first token, by model and provider',
    labelNames: ['model', 'provider'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [register],
  }),
};
