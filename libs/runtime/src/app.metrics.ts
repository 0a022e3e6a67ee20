import { collectDefaultMetrics, Counter, register } from 'prom-client';

let defaultsCollected = false;

/** Process metrics (CPU, memory, event-loop lag, GC) once per process. */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ prefix: 'aip_' });
}

/** What every app reports; one instance per process (prom-client refuses duplicates). An app's own metrics live in the app. */
export const appMetrics = {
  httpRequests: new Counter({ name: 'aip_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [register] }),
  /** The edges' admission fast path (ADR 0025): admitted at once (direct) or handed to the rate-limiter, and why. */
  admissions: new Counter({ name: 'aip_edge_admissions_total', help: 'Requests an edge (access, rtc-push) admitted itself (direct) or handed to the rate-limiter (handed_over), by reason', labelNames: ['path', 'reason'], registers: [register] }),
  configErrors: new Counter({ name: 'aip_config_document_errors_total', help: 'Run-time documents that could not be read or applied (the previous version stays), by document', labelNames: ['document'], registers: [register] }),
};
