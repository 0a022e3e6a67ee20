import { Counter, register } from 'prom-client';

/** What the limiter decides, for operators (`/metrics`); one instance per process. */
export const admissionMetrics = {
  decisions: new Counter({ name: 'aip_admission_decisions_total', help: 'Admission decisions by outcome and reason', labelNames: ['outcome', 'reason'], registers: [register] }),
  workerChoices: new Counter({ name: 'aip_affinity_choices_total', help: 'Session-affinity worker choices by reason (sticky, new, rebalanced, failover, none)', labelNames: ['reason'], registers: [register] }),
};
