// How each app of apps/ is deployed: the one table the Kubernetes manifests are generated from
// (tools/deploy/generate.ts) and the deployment tests check against. A new app in apps/ without an
// entry here fails the tests, so nobody ships a service without probes, limits and a budget.

export type Exposure = 'public' | 'internal';
/** `cpu`: a CPU HorizontalPodAutoscaler in the base; `lag`: scaled on consumer lag (see the keda/hpa components); `none`: fixed replicas. */
export type Scaling = 'cpu' | 'lag' | 'none';

export interface DeployApp {
  readonly name: string;
  readonly port: number;
  /** Public apps accept traffic from outside the namespace; internal ones only from it and from monitoring. */
  readonly exposure: Exposure;
  readonly replicas: number;
  readonly scaling: Scaling;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly resources: { readonly requests: { cpu: string; memory: string }; readonly limits: { cpu: string; memory: string } };
  /**
   * Seconds from "terminating" to SIGKILL. Must cover the preStop pause (5 s), the end of a
   * running long poll (up to 20 s: the proxy answers an empty receive after at most 20 s), the
   * transport's drain (drainTimeoutMs, 30 s: running handlers finish, the rest is released to the
   * group) and closing — 60 s for every app that consumes.
   */
  readonly terminationGracePeriodSeconds: number;
  /** Writable directories (emptyDir) besides /tmp; the root filesystem is read-only. */
  readonly dataDirs: readonly string[];
  /** Non-secret settings of this app (its ConfigMap). */
  readonly config: Readonly<Record<string, string>>;
  /** Whether the app embeds text in-process (its image carries the embedding model; others build with EMBEDDINGS_MODEL=none). */
  readonly embeddings: boolean;
  readonly description: string;
}

/**
 * The operators' port of every app (`ADMIN_PORT`): the admin API and `/metrics`, never routed from
 * outside (the network policies admit it only from the namespace and from monitoring).
 */
export const ADMIN_PORT = 9090;

/** Seconds the pod keeps serving after it is marked terminating, so endpoints and load balancers drop it first. */
export const PRE_STOP_SECONDS = 5;

/** Image of the apps; overlays set the registry and tag (`images:` in kustomization.yaml). */
export const imageOf = (app: string) => `aip/${app}`;

const small = { requests: { cpu: '100m', memory: '192Mi' }, limits: { cpu: '1', memory: '384Mi' } };

export const DEPLOY_APPS: readonly DeployApp[] = [
  {
    name: 'access',
    port: 3000,
    exposure: 'public',
    replicas: 2,
    scaling: 'cpu',
    minReplicas: 2,
    maxReplicas: 10,
    // The limit leaves room for the embedding model (POST /v1/embeddings loads it on first use: ~+250 MB).
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
    // Publishes only (no consumer to drain). Open SSE relays are cut at shutdown; clients resume
    // with Last-Event-ID on another pod.
    terminationGracePeriodSeconds: 45,
    dataDirs: [],
    // Behind one ingress / load balancer that appends the client's address to X-Forwarded-For:
    // believe that one hop and no more, so a client cannot pick its own address for the IP limit.
    config: { PORT: '3000', TRUST_PROXY: '1' },
    embeddings: true,
    description: 'OpenAI-compatible and task API (public)',
  },
  {
    name: 'rate-limiter',
    port: 3001,
    exposure: 'internal',
    replicas: 2,
    scaling: 'none',
    minReplicas: 2,
    maxReplicas: 2,
    resources: small,
    terminationGracePeriodSeconds: 60,
    dataDirs: [],
    config: { PORT: '3001' },
    embeddings: false,
    description: 'admission decisions',
  },
  {
    name: 'inference',
    port: 3002,
    exposure: 'internal',
    replicas: 2,
    scaling: 'lag',
    minReplicas: 1,
    maxReplicas: 20,
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '2', memory: '1Gi' } },
    // preStop 5 s + long poll ≤ 20 s + drain 30 s (one lease: a generation finishes or is
    // released to another worker) + closing the consumers and Redis.
    terminationGracePeriodSeconds: 60,
    dataDirs: [],
    config: { PORT: '3002', INFERENCE_SLOTS: '8', LEASE_MS: '10000' },
    embeddings: true,
    description: 'pull-based inference workers',
  },
  {
    name: 'knowledge-ingest',
    port: 3003,
    exposure: 'public',
    replicas: 2,
    scaling: 'none',
    minReplicas: 2,
    maxReplicas: 2,
    resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '2', memory: '1536Mi' } },
    terminationGracePeriodSeconds: 60,
    // Upload scratch space and the embedded LanceDB directory when no Qdrant is configured.
    dataDirs: ['/data'],
    // Public behind the same ingress as access: one trusted hop for the per-IP limit.
    config: { PORT: '3003', TRUST_PROXY: '1', KNOWLEDGE_DATA_DIR: '/data/knowledge', OBJECT_STORE_DIR: '/data/object-store', LANCEDB_DIR: '/data/lancedb' },
    embeddings: true,
    description: 'knowledge upload API and change-data-capture indexing (public upload API)',
  },
  {
    name: 'intent-scheduler',
    port: 3004,
    exposure: 'internal',
    replicas: 2,
    scaling: 'none',
    minReplicas: 2,
    maxReplicas: 2,
    resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '768Mi' } },
    terminationGracePeriodSeconds: 60,
    dataDirs: [],
    config: { PORT: '3004' },
    embeddings: true,
    description: 'scheduled intent analysis (one active runner per shard via a Redis lock)',
  },
  {
    name: 'rtc-push',
    port: 3005,
    exposure: 'public',
    replicas: 2,
    scaling: 'cpu',
    minReplicas: 2,
    maxReplicas: 10,
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    // Sockets are closed at shutdown; clients reconnect and resume from their last ack.
    terminationGracePeriodSeconds: 60,
    dataDirs: [],
    // Public behind the same ingress as access: one trusted hop for the per-IP limit.
    config: { PORT: '3005', TRUST_PROXY: '1' },
    embeddings: false,
    description: 'WebSocket/SSE edge (public)',
  },
];

export function deployApp(name: string): DeployApp {
  const app = DEPLOY_APPS.find((candidate) => candidate.name === name);
  if (!app) throw new Error(`apps/${name} has no deployment entry: add it to tools/deploy/apps.ts and run tools/deploy/generate.ts`);
  return app;
}
