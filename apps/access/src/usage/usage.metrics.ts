import { Counter, register } from 'prom-client';

/** What the usage ledger wrote: new rows by status, and their cost (dashboards: cost by model). */
export const usageMetrics = {
  rows: new Counter({ name: 'aip_usage_rows_total', help: 'Usage ledger rows written (a redelivered event adds none), by status', labelNames: ['status'], registers: [register] }),
  cost: new Counter({ name: 'aip_usage_cost_dollars_total', help: 'Cost of the requests recorded in the usage ledger, in US dollars, by model alias and provider', labelNames: ['model', 'provider'], registers: [register] }),
};
