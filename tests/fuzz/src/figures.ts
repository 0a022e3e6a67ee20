import type { RawResponse } from './raw-http.ts';
import type { FuzzRequest } from './targets.ts';

/** What the run did, printed at the end: requests per app, statuses, latencies, frames, messages, the well-behaved client. */
export class Figures {
  readonly startedAt = Date.now();
  readonly http = new Map<string, { requests: number; statuses: Map<string, number>; maxLatencyMs: number; maxLatencyRoute: string; serverErrors: number }>();
  readonly ws = { sessions: 0, framesSent: 0, closeCodes: new Map<string, number>(), errorCodes: new Map<string, number>() };
  readonly consumers = new Map<string, { sent: number; deadLettered: number }>();
  readonly wellBehaved = { rounds: 0, failures: [] as string[] };
  readonly violations: string[] = [];

  record(request: FuzzRequest, response: RawResponse): void {
    const app = this.http.get(request.app) ?? { requests: 0, statuses: new Map(), maxLatencyMs: 0, maxLatencyRoute: '', serverErrors: 0 };
    this.http.set(request.app, app);
    app.requests++;
    const key = response.outcome === 'answered' ? String(response.status) : response.outcome === 'closed' && /EPIPE|ECONNRESET/.test(response.error ?? '') ? 'reset' : response.outcome;
    app.statuses.set(key, (app.statuses.get(key) ?? 0) + 1);
    if (response.status >= 500) app.serverErrors++;
    if (response.latencyMs > app.maxLatencyMs) {
      app.maxLatencyMs = response.latencyMs;
      app.maxLatencyRoute = request.route;
    }
  }

  count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  report(): string {
    const histogram = (map: Map<string, number>) => [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}:${v}`).join(' ');
    const lines = [`fuzz figures (${new Date(this.startedAt).toISOString()}, ${((Date.now() - this.startedAt) / 1_000).toFixed(0)} s)`];
    let total = 0;
    let serverErrors = 0;
    for (const [app, figures] of [...this.http.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      total += figures.requests;
      serverErrors += figures.serverErrors;
      lines.push(`  HTTP ${app.padEnd(17)} ${String(figures.requests).padStart(6)} requests, 5xx ${figures.serverErrors}, max latency ${figures.maxLatencyMs.toFixed(0)} ms (${figures.maxLatencyRoute}); statuses ${histogram(figures.statuses)}`);
    }
    lines.push(`  HTTP total ${total} requests, 5xx ${serverErrors}`);
    lines.push(`  WebSocket ${this.ws.sessions} sessions, ${this.ws.framesSent} frames sent; close codes ${histogram(this.ws.closeCodes) || '-'}; error frames ${histogram(this.ws.errorCodes) || '-'}`);
    for (const [target, figures] of this.consumers) lines.push(`  consumer ${target}: ${figures.sent} poison messages, ${figures.deadLettered} found dead-lettered`);
    lines.push(`  well-behaved client: ${this.wellBehaved.rounds} rounds, ${this.wellBehaved.failures.length} failures${this.wellBehaved.failures.length ? `\n    ${this.wellBehaved.failures.slice(0, 10).join('\n    ')}` : ' (stayed OK)'}`);
    if (this.violations.length) lines.push(`  violations (${this.violations.length}):\n    ${this.violations.slice(0, 30).join('\n    ')}`);
    return lines.join('\n');
  }
}
