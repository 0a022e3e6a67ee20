// Kubernetes objects of one app, built from its row in apps.ts. Everything that must hold for every
// app (probes, limits, non-root, read-only root, graceful stop, a disruption budget, scraping) is
// written once here instead of six times by hand.
import { ADMIN_PORT, imageOf, PRE_STOP_SECONDS, type DeployApp } from './apps.ts';

/** uid/gid of the image's user (`node` in the official Node image); numeric so runAsNonRoot can be verified. */
export const APP_UID = 1000;

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, unknown>;

export function labelsOf(app: DeployApp): Record<string, string> {
  return {
    'app.kubernetes.io/name': app.name,
    'app.kubernetes.io/part-of': 'aip',
    'app.kubernetes.io/component': 'service',
    'aip.dev/exposure': app.exposure,
  };
}

const selectorOf = (app: DeployApp) => ({ 'app.kubernetes.io/name': app.name, 'app.kubernetes.io/part-of': 'aip' });

const volumeName = (dir: string) => `data${dir.replaceAll('/', '-')}`;

export function deploymentOf(app: DeployApp): Manifest {
  const http = { path: '/health/live', port: 'http' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app.name, labels: labelsOf(app), annotations: { 'aip.dev/description': app.description } },
    spec: {
      // Autoscaled apps leave replicas to their autoscaler, so re-applying does not reset them.
      ...(app.scaling === 'none' ? { replicas: app.replicas } : {}),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorOf(app) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labelsOf(app) },
        spec: {
          terminationGracePeriodSeconds: app.terminationGracePeriodSeconds,
          automountServiceAccountToken: false,
          // Service links would inject REDIS_PORT=tcp://… style variables next to our config.
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: APP_UID,
            runAsGroup: APP_UID,
            fsGroup: APP_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selectorOf(app) } },
          ],
          containers: [
            {
              name: app.name,
              image: imageOf(app.name),
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: app.port, protocol: 'TCP' }, { name: 'admin', containerPort: ADMIN_PORT, protocol: 'TCP' }],
              envFrom: [
                { configMapRef: { name: 'aip-common' } },
                { configMapRef: { name: `${app.name}-config` } },
                // Endpoints and credentials of Redis (and Qdrant): one Secret per overlay.
                { secretRef: { name: 'aip-platform' } },
                // Its own: the broker user it signs in as (ROCKETMQ_ACCESS_KEY, ROCKETMQ_SECRET_KEY),
                // and ADMIN_TOKEN for access. Required: the broker refuses a client without them.
                { secretRef: { name: `${app.name}-secrets` } },
              ],
              env: [
                { name: 'INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                // The root filesystem is read-only: anything that writes under $HOME gets /tmp.
                { name: 'HOME', value: '/tmp' },
                // The admin API and metrics on their own port, which no public route reaches.
                { name: 'ADMIN_PORT', value: String(ADMIN_PORT) },
              ],
              startupProbe: { httpGet: http, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 60 },
              livenessProbe: { httpGet: http, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
              // Ready = broker and Redis answer: a pod that cannot reach them gets no traffic.
              readinessProbe: { httpGet: { path: '/health/ready', port: 'http' }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
              // Keep serving while endpoints and load balancers drop the pod; SIGTERM follows and
              // the transport drains (running handlers finish or are released to the group).
              lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SECONDS } } },
              resources: app.resources,
              securityContext: {
                runAsNonRoot: true,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...app.dataDirs.map((dir) => ({ name: volumeName(dir), mountPath: dir }))],
            },
          ],
          volumes: [
            { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
            ...app.dataDirs.map((dir) => ({ name: volumeName(dir), emptyDir: { sizeLimit: '2Gi' } })),
          ],
        },
      },
    },
  };
}

export function serviceOf(app: DeployApp): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: app.name, labels: labelsOf(app) },
    spec: { type: 'ClusterIP', selector: selectorOf(app), ports: [
        { name: 'http', port: app.port, targetPort: 'http', protocol: 'TCP' },
        { name: 'admin', port: ADMIN_PORT, targetPort: 'admin', protocol: 'TCP' },
      ],
    },
  };
}

export function disruptionBudgetOf(app: DeployApp): Manifest {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: app.name, labels: labelsOf(app) },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorOf(app) } },
  };
}

export function serviceMonitorOf(app: DeployApp): Manifest {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: app.name, labels: labelsOf(app) },
    spec: { selector: { matchLabels: selectorOf(app) }, endpoints: [{ port: 'admin', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }] },
  };
}

export function cpuAutoscalerOf(app: DeployApp): Manifest {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: app.name, labels: labelsOf(app) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: app.name },
      minReplicas: app.minReplicas,
      maxReplicas: app.maxReplicas,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
    },
  };
}

/**
 * Everything of one app that lives in the base: built-in kinds only, so the base applies to a bare
 * cluster. Lag-scaled apps get their autoscaler from a component, ServiceMonitors (a
 * prometheus-operator CRD) come from components/service-monitors.
 */
export function appManifests(app: DeployApp): Manifest[] {
  return [deploymentOf(app), serviceOf(app), disruptionBudgetOf(app), ...(app.scaling === 'cpu' ? [cpuAutoscalerOf(app)] : [])];
}
