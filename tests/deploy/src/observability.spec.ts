// The alert rules and the Grafana dashboard (tools/deploy/observability.ts, generated into
// deploy/k8s/components/service-monitors/alerts.yaml and deploy/observability/grafana/): every
// metric they read is one an app exports (a renamed metric would silently empty a panel or never
// fire an alert), and the dashboard is one Grafana lays out as meant.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ALERT_RULES, DASHBOARD_PATH, grafanaDashboard, observabilityQueries } from '@aip/deploy-tools';
import { read, root } from './support/workspace.ts';

/** Every `aip_*` metric name the apps and libs declare (prom-client `name: '…'`). */
function exportedMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (entry === 'node_modules' || entry === 'dist') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts') && !path.endsWith('spec.ts')) for (const match of readFileSync(path, 'utf8').matchAll(/name: '(aip_[a-z0-9_]+)'/g)) names.add(match[1]!);
    }
  };
  for (const top of ['apps', 'libs']) walk(join(root, top));
  return names;
}

describe('alerts and dashboards', () => {
  it('read only metrics the platform exports (histograms by their _bucket series)', () => {
    const exported = exportedMetrics();
    expect(exported.size).toBeGreaterThan(20);
    const unknown = observabilityQueries().flatMap((query) => [...query.matchAll(/\b(aip_[a-z0-9_]+)/g)].map((match) => match[1]!)).filter((metric) => !exported.has(metric.replace(/_(bucket|sum|count)$/, '')));
    expect(unknown).toEqual([]);
  });

  it('give every alert a severity, a summary and what to do, and a duration Prometheus reads', () => {
    for (const rule of ALERT_RULES) {
      expect(rule.alert).toMatch(/^Aip[A-Za-z0-9]+$/);
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['page', 'ticket', 'info']).toContain(rule.severity);
      expect(rule.summary.length).toBeGreaterThan(10);
      expect(rule.description.length).toBeGreaterThan(20);
    }
    expect(new Set(ALERT_RULES.map((rule) => rule.alert)).size).toBe(ALERT_RULES.length);
  });

  it('lay the dashboard out on Grafana\'s 24 columns without overlaps, every panel on the Prometheus variable', () => {
    const committed = JSON.parse(read(DASHBOARD_PATH)) as ReturnType<typeof grafanaDashboard> & { panels: { id: number; type: string; datasource?: { uid: string }; targets?: { expr: string }[]; gridPos: { x: number; y: number; w: number; h: number } }[] };
    expect(committed).toEqual(JSON.parse(JSON.stringify(grafanaDashboard())));
    const ids = committed.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const panel of committed.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w).toBeLessThanOrEqual(24);
      for (let row = y; row < y + h; row++) for (let column = x; column < x + w; column++) {
        expect(cells.has(`${row}:${column}`)).toBe(false);
        cells.add(`${row}:${column}`);
      }
      if (panel.type === 'row') continue;
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length).toBeGreaterThan(0);
    }
  });
});
