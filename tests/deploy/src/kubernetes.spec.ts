// Renders every overlay with `kubectl kustomize`, validates each object against its schema, and
// checks what must hold for every app and how the overlays differ.
import { brokerRights, brokerTopology, CONSUMER_GROUPS, TOPICS } from '@aip/contracts';
import { byKind, find, renderOverlay, selects, validateObject, type K8sObject } from './support/kubernetes.ts';
import { overlays, read, workspaceApps, type Overlay } from './support/workspace.ts';
import { ADMIN_PORT, brokerSecretVariable, DEPLOY_APPS, generatedFiles, parseTopologyScript, PRE_STOP_SECONDS } from '@aip/deploy-tools';

const rendered = new Map<Overlay, K8sObject[]>();
const PUBLIC_APPS = ['access', 'knowledge-ingest', 'rtc-push'];
/** The transport's drain on shutdown (libs/messaging, drainTimeoutMs) = one inference lease. */
const DRAIN_SECONDS = 30;

beforeAll(async () => {
  // Both renders at once: kubectl is installed first when missing (tools/deploy/ensure-tool.sh).
  const results = await Promise.all(overlays.map((overlay) => renderOverlay(overlay)));
  overlays.forEach((overlay, index) => rendered.set(overlay, results[index]!));
}, 180_000);

const objectsOf = (overlay: Overlay) => rendered.get(overlay)!;

/** Health routes as libs/runtime's HealthController declares them. */
function healthRoutes(): { live: string; ready: string } {
  const source = read('libs/runtime/src/health.controller.ts');
  const routes = [...source.matchAll(/@Get\('([^']+)'\)/g)].map((match) => `/${match[1]}`);
  const live = routes.find((route) => route.endsWith('/live'));
  const ready = routes.find((route) => route.endsWith('/ready'));
  if (!live || !ready) throw new Error(`HealthController declares no live/ready routes: ${routes.join(', ')}`);
  return { live, ready };
}

describe('generated deployment files', () => {
  it('are what tools/deploy/generate.ts produces from the contracts and apps.ts (no drift)', () => {
    const stale = [...generatedFiles()].filter(([path, content]) => {
      try {
        return read(path) !== content;
      } catch {
        return true;
      }
    });
    expect(stale.map(([path]) => path)).toEqual([]);
  });

  it('describe every app in apps/ (a new app needs a row in tools/deploy/apps.ts)', () => {
    expect(DEPLOY_APPS.map((app) => app.name).sort()).toEqual(workspaceApps());
  });
});

describe.each(overlays)('overlay %s', (overlay) => {
  it('renders only objects that are valid against their schemas', async () => {
    const objects = objectsOf(overlay);
    expect(objects.length).toBeGreaterThan(20);
    const failures: string[] = [];
    for (const object of objects) await validateObject(object).catch((error: Error) => failures.push(error.message));
    expect(failures).toEqual([]);
  });

  it('puts everything in the aip namespace', () => {
    const outside = objectsOf(overlay).filter((object) => object.kind !== 'Namespace' && object.metadata.namespace !== 'aip');
    expect(outside.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual([]);
  });

  describe.each(workspaceApps())('app %s', (name) => {
    const app = () => DEPLOY_APPS.find((candidate) => candidate.name === name)!;
    const deployment = () => find(objectsOf(overlay), 'Deployment', name);
    const pod = () => deployment().spec.template.spec;
    const container = () => pod().containers[0];

    it('has a Deployment whose container listens on the port of its config', () => {
      const port = container().ports.find((candidate: { name: string }) => candidate.name === 'http');
      expect(port.containerPort).toBe(app().port);
      const configMapName = container().envFrom.find((source: { configMapRef?: { name: string } }) => source.configMapRef?.name.startsWith(`${name}-config`)).configMapRef.name;
      expect(find(objectsOf(overlay), 'ConfigMap', configMapName).data!['PORT']).toBe(String(app().port));
    });

    it('has startup, liveness and readiness probes on the health endpoints', () => {
      const { live, ready } = healthRoutes();
      expect(container().startupProbe.httpGet).toEqual({ path: live, port: 'http' });
      expect(container().livenessProbe.httpGet).toEqual({ path: live, port: 'http' });
      expect(container().readinessProbe.httpGet).toEqual({ path: ready, port: 'http' });
    });

    it('has CPU and memory requests and limits', () => {
      const { requests, limits } = container().resources;
      expect(Object.keys(requests).sort()).toEqual(['cpu', 'memory']);
      expect(Object.keys(limits).sort()).toEqual(['cpu', 'memory']);
    });

    it('runs non-root with a read-only root filesystem, no capabilities and the runtime seccomp profile', () => {
      expect(pod().securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod().securityContext.runAsUser).toBeGreaterThan(0);
      expect(container().securityContext).toEqual({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      const mounts = container().volumeMounts.map((mount: { mountPath: string; name: string }) => mount);
      const tmp = mounts.find((mount: { mountPath: string }) => mount.mountPath === '/tmp');
      expect(pod().volumes.find((volume: { name: string }) => volume.name === tmp?.name)?.emptyDir).toBeDefined();
      for (const dir of app().dataDirs) expect(mounts.map((mount: { mountPath: string }) => mount.mountPath)).toContain(dir);
    });

    it('stops gracefully: preStop pause, then enough grace for the drain', () => {
      expect(container().lifecycle.preStop.sleep.seconds).toBe(PRE_STOP_SECONDS);
      expect(pod().terminationGracePeriodSeconds).toBeGreaterThan(PRE_STOP_SECONDS + DRAIN_SECONDS);
    });

    it('reads its settings from ConfigMaps and its credentials from Secret references', () => {
      const sources = container().envFrom.map((source: { configMapRef?: { name: string }; secretRef?: { name: string } }) => source.configMapRef?.name ?? `secret:${source.secretRef?.name}`);
      expect(sources.some((source: string) => source.startsWith('aip-common'))).toBe(true);
      expect(sources.some((source: string) => source.startsWith('secret:aip-platform'))).toBe(true);
      expect(container().env.map((variable: { name: string }) => variable.name)).not.toEqual(expect.arrayContaining(['REDIS_URL', 'ROCKETMQ_SECRET_KEY', 'ADMIN_TOKEN']));
    });

    it('has a Service and a PodDisruptionBudget that select its pods', () => {
      const labels = deployment().spec.template.metadata.labels;
      expect(selects({ matchLabels: find(objectsOf(overlay), 'Service', name).spec.selector }, labels)).toBe(true);
      const budget = find(objectsOf(overlay), 'PodDisruptionBudget', name);
      expect(selects(budget.spec.selector, labels)).toBe(true);
      expect(budget.spec.maxUnavailable ?? budget.spec.minAvailable).toBeDefined();
    });

    it('is scaled by at most one autoscaler', () => {
      const scalers = objectsOf(overlay).filter(
        (object) => (object.kind === 'HorizontalPodAutoscaler' || object.kind === 'ScaledObject') && object.spec.scaleTargetRef.name === name,
      );
      expect(scalers.length).toBeLessThanOrEqual(1);
      if (app().scaling !== 'none') expect(scalers).toHaveLength(1);
      // An autoscaled Deployment leaves replicas to its autoscaler.
      if (scalers.length === 1) expect(deployment().spec.replicas).toBeUndefined();
    });
  });

  it('admits traffic from outside the namespace only to the public apps', () => {
    const objects = objectsOf(overlay);
    const policies = byKind(objects, 'NetworkPolicy');
    // Default deny: a policy for every pod with Ingress and no rule.
    expect(policies.some((policy) => Object.keys(policy.spec.podSelector).length === 0 && policy.spec.policyTypes.includes('Ingress') && !policy.spec.ingress?.length)).toBe(true);
    const isMonitoring = (selector: { matchLabels?: Record<string, string> }) => selector.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring';
    const openToOutside = (labels: Record<string, string>) =>
      policies.some(
        (policy) =>
          selects(policy.spec.podSelector, labels) &&
          (policy.spec.ingress ?? []).some(
            (rule: { from?: { ipBlock?: unknown; namespaceSelector?: { matchLabels?: Record<string, string> } }[] }) =>
              !rule.from?.length || rule.from.some((peer) => peer.ipBlock !== undefined || (peer.namespaceSelector !== undefined && !isMonitoring(peer.namespaceSelector))),
          ),
      );
    const workloads = [...byKind(objects, 'Deployment'), ...byKind(objects, 'StatefulSet')];
    const open = workloads.filter((workload) => openToOutside(workload.spec.template.metadata.labels)).map((workload) => workload.metadata.name);
    expect(open.sort()).toEqual(PUBLIC_APPS);
  });

  it('gives access and rtc-push a CPU autoscaler', () => {
    for (const name of ['access', 'rtc-push']) {
      const hpa = find(objectsOf(overlay), 'HorizontalPodAutoscaler', name);
      expect(hpa.spec.metrics).toEqual([expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) })]);
    }
  });

  it('pins every image to an exact tag', () => {
    const images = [...byKind(objectsOf(overlay), 'Deployment'), ...byKind(objectsOf(overlay), 'StatefulSet'), ...byKind(objectsOf(overlay), 'Job')].flatMap((workload) =>
      workload.spec.template.spec.containers.map((container: { image: string }) => container.image),
    );
    expect(images.filter((image: string) => !/:[\w][\w.-]*$/.test(image) || image.endsWith(':latest'))).toEqual([]);
  });
});

describe('overlay local (single-node cluster, dependencies inside)', () => {
  const objects = () => objectsOf('local');

  it('applies to a bare cluster: built-in kinds only (no KEDA, no prometheus-operator CRDs)', () => {
    const builtIn = /^(v1|apps\/v1|batch\/v1|policy\/v1|autoscaling\/v2|networking\.k8s\.io\/v1)$/;
    expect(objects().filter((object) => !builtIn.test(object.apiVersion)).map((object) => `${object.apiVersion} ${object.kind}`)).toEqual([]);
  });

  it('runs RocketMQ (name server, broker with proxy), Redis and Qdrant as StatefulSets with persistent volumes', () => {
    expect(byKind(objects(), 'StatefulSet').map((set) => set.metadata.name).sort()).toEqual(['qdrant', 'redis', 'rocketmq-broker', 'rocketmq-namesrv']);
    const broker = find(objects(), 'StatefulSet', 'rocketmq-broker');
    expect(broker.spec.template.spec.containers[0].image).toBe('apache/rocketmq:5.5.0');
    expect(broker.spec.template.spec.containers[0].command).toEqual(['sh', '/config/start-broker.sh']);
    const config = find(objects(), 'ConfigMap', broker.spec.template.spec.volumes.find((volume: { name: string }) => volume.name === 'config').configMap.name);
    expect(config.data!['start-broker.sh']).toContain('exec sh mqbroker --enable-proxy');
    for (const name of ['rocketmq-broker', 'redis', 'qdrant']) expect(find(objects(), 'StatefulSet', name).spec.volumeClaimTemplates).toHaveLength(1);
  });

  it('creates exactly the topics and groups of libs/contracts with its Job', () => {
    const job = find(objects(), 'Job', 'rocketmq-topology');
    const volume = job.spec.template.spec.volumes.find((candidate: { configMap?: { name: string } }) => candidate.configMap);
    const script = find(objects(), 'ConfigMap', volume.configMap.name).data!['create-topology.sh']!;
    expect(parseTopologyScript(script)).toEqual(brokerTopology());
    expect(job.spec.template.spec.containers[0].command).toEqual(['sh', '-c', 'sh /scripts/create-topology.sh && sh /scripts/create-users.sh']);
  });

  it('runs the broker with access control on; each app signs in as its own broker user, with the secret the Job gave that user', () => {
    const secret = (prefix: string) => {
      const found = byKind(objects(), 'Secret').find((candidate) => candidate.metadata.name.startsWith(prefix))! as unknown as { data: Record<string, string> };
      return Object.fromEntries(Object.entries(found.data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]));
    };
    const auth = secret('rocketmq-auth-');
    const job = find(objects(), 'Job', 'rocketmq-topology');
    expect(job.spec.template.spec.containers[0].envFrom).toEqual([{ secretRef: { name: expect.stringMatching(/^rocketmq-auth-/) } }]);
    for (const { user } of brokerRights()) expect(auth[brokerSecretVariable(user)]).toBeTruthy();
    expect(find(objects(), 'StatefulSet', 'rocketmq-broker').spec.template.spec.containers[0].env).toEqual(
      expect.arrayContaining([{ name: 'ROCKETMQ_ADMIN_SECRET', valueFrom: { secretKeyRef: { name: expect.stringMatching(/^rocketmq-auth-/), key: 'ROCKETMQ_ADMIN_SECRET' } } }]),
    );
    for (const name of workspaceApps()) {
      expect(secret(`${name}-secrets-`)).toMatchObject({ ROCKETMQ_ACCESS_KEY: name, ROCKETMQ_SECRET_KEY: auth[brokerSecretVariable(name)] });
      if (name === 'access' || name === 'inference') expect(secret(`${name}-secrets-`)['CONFIG_ENCRYPTION_KEY']).toBe(secret('access-secrets-')['CONFIG_ENCRYPTION_KEY']);
      const refs = find(objects(), 'Deployment', name).spec.template.spec.containers[0].envFrom;
      expect(refs).toEqual(expect.arrayContaining([{ secretRef: { name: expect.stringMatching(new RegExp(`^${name}-secrets-`)) } }]));
    }
  });

  it('points the apps at the in-cluster broker, Redis and Qdrant', () => {
    const common = byKind(objects(), 'ConfigMap').find((map) => map.metadata.name.startsWith('aip-common'))!;
    expect(common.data!['ROCKETMQ_ENDPOINTS']).toBe('rocketmq-broker:8081');
    expect(common.data!['QDRANT_URL']).toBe('http://qdrant:6333');
    const platform = byKind(objects(), 'Secret').find((secret) => secret.metadata.name.startsWith('aip-platform'))!;
    expect(Buffer.from((platform as unknown as { data: Record<string, string> }).data['REDIS_URL']!, 'base64').toString()).toBe('redis://redis:6379');
  });

  it('scales inference on CPU (no KEDA on a laptop cluster)', () => {
    expect(byKind(objects(), 'ScaledObject')).toEqual([]);
    expect(find(objects(), 'HorizontalPodAutoscaler', 'inference').spec.metrics[0].resource.name).toBe('cpu');
  });
});

describe('overlay production (external dependencies)', () => {
  const objects = () => objectsOf('production');

  it('runs no dependencies and ships no Secrets: endpoints and credentials come from external Secrets', () => {
    expect(byKind(objects(), 'StatefulSet')).toEqual([]);
    expect(byKind(objects(), 'Job')).toEqual([]);
    expect(byKind(objects(), 'Secret')).toEqual([]);
    const common = byKind(objects(), 'ConfigMap').find((map) => map.metadata.name.startsWith('aip-common'))!;
    expect(common.data!['ROCKETMQ_ENDPOINTS']).toBeUndefined();
    expect(common.data!['ROCKETMQ_TLS']).toBe('true');
  });

  it('scales inference with KEDA on the consumer lag of its group, with no competing HPA', () => {
    expect(byKind(objects(), 'HorizontalPodAutoscaler').map((hpa) => hpa.metadata.name)).not.toContain('inference');
    const scaled = find(objects(), 'ScaledObject', 'inference');
    const trigger = scaled.spec.triggers[0];
    expect(trigger.type).toBe('prometheus');
    expect(trigger.metadata.query).toContain('rocketmq_consumer_lag_messages');
    expect(trigger.metadata.query).toContain(`consumer_group="${CONSUMER_GROUPS.inference.name}"`);
    expect(trigger.metadata.query).toContain(`topic="${TOPICS.aiInference.name}"`);
  });

  it('has a ServiceMonitor scraping /metrics of every app on its admin port', () => {
    for (const name of workspaceApps()) {
      const monitor = find(objects(), 'ServiceMonitor', name);
      expect(selects(monitor.spec.selector, find(objects(), 'Service', name).metadata.labels!)).toBe(true);
      expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'admin', path: '/metrics' })]);
    }
  });

  it('serves the admin API and metrics on a port that no public policy admits', () => {
    for (const name of workspaceApps()) {
      const container = find(objects(), 'Deployment', name).spec.template.spec.containers[0];
      expect(container.ports).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'admin', containerPort: ADMIN_PORT })]));
      expect(container.env).toEqual(expect.arrayContaining([{ name: 'ADMIN_PORT', value: String(ADMIN_PORT) }]));
      expect(find(objects(), 'Service', name).spec.ports).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'admin', targetPort: 'admin' })]));
    }
    const publicPorts = find(objects(), 'NetworkPolicy', 'allow-public-apps').spec.ingress.flatMap((rule: { ports: { port: string }[] }) => rule.ports.map((port) => port.port));
    expect(publicPorts).toEqual(['http']);
    const internal = find(objects(), 'NetworkPolicy', 'allow-internal-apps').spec.ingress[0];
    expect(internal.ports.map((port: { port: string }) => port.port)).toEqual(['http', 'admin']);
  });

  it('uses versioned images from a registry', () => {
    for (const deployment of byKind(objects(), 'Deployment')) expect(deployment.spec.template.spec.containers[0].image).toMatch(/^[\w.-]+\/aip\/[\w-]+:\d+\.\d+\.\d+$/);
  });
});
