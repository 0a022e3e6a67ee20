import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brokerRights, brokerTopology, CONSUMER_GROUPS, TOPICS } from '@aip/contracts';
import { brokerSecretVariable, USERS_SCRIPT_PATH } from '@aip/deploy-tools';
import { createGroups, createTopics, ensureBroker, mqadminCommand, stopBroker, wipeBroker, type BrokerOptions } from '@aip/rocketmq-local';
import { createKey, deleteKeys, eventually, startApp, startApps, stopApp, testRedis, uniqueName, type RunningApp } from '@aip/testing';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';

// The broker as a trust boundary: with ACL 2.0 on (one user per service, rights derived from the
// contracts), a client without credentials, or with another service's, cannot publish where the
// platform trusts what it reads — skip the limiter, send users a push, feed the knowledge base.
// The users and rights are applied by the script containers use (deploy/k8s/components/local-deps/
// create-users.sh), run with mqadmin of the same RocketMQ release, so what is proven here is what a
// compose or Kubernetes deployment gets.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const base = Number(process.env['ACL_ROCKETMQ_PORT_BASE'] ?? 21_000);
const admin = { accessKey: 'aip-admin', secretKey: 'admin-secret-0123456789' };
const options: BrokerOptions = {
  runtimeDir: join(root, '.runtime', 'rocketmq-acl-test'),
  namesrvPort: base + 876,
  proxyPort: base + 81,
  remotingPort: base + 80,
  brokerPort: base + 1_911,
  auth: { admin },
  log: (line) => process.stderr.write(`[acl rocketmq] ${line}\n`),
};
const password = (user: string) => `${user}-secret-0123456789`;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
let endpoints = '';

beforeAll(async () => {
  const shared = process.env['ROCKETMQ_ENDPOINTS'];
  delete process.env['ROCKETMQ_ENDPOINTS'];
  try {
    // A fresh store: the admin user is created on the first start only, with that start's secret.
    await wipeBroker(options);
    const broker = await ensureBroker(options);
    endpoints = broker.endpoints;
    const { topics, groups } = brokerTopology();
    await createTopics([...topics], { namesrv: broker.namesrv });
    await createGroups([...groups], { namesrv: broker.namesrv });
    const { stdout } = await runUsersScript(broker.namesrv!);
    expect(stdout).toContain(`access control applied: ${brokerRights().length} users`);
  } finally {
    if (shared !== undefined) process.env['ROCKETMQ_ENDPOINTS'] = shared;
  }
}, 240_000);

/** create-users.sh as a Job runs it: mqadmin (here the jars of the local broker), the admin secret, one secret per user. */
async function runUsersScript(namesrv: string) {
  const command = mqadminCommand(options);
  const wrapper = join(dataDir, 'mqadmin');
  // As the image's bin/mqadmin (tools.sh): JAVA_OPT from the environment goes to the JVM.
  const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;
  writeFileSync(wrapper, `#!/bin/sh\nexec ${[command.file, ...command.jvmArgs].map(quote).join(' ')} $JAVA_OPT ${command.mainClass} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const secrets = Object.fromEntries(brokerRights().map(({ user }) => [brokerSecretVariable(user), password(user)]));
  return promisify(execFile)('sh', [join(root, USERS_SCRIPT_PATH)], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dataDir, NAMESRV_ADDR: namesrv, MQADMIN: wrapper, ROCKETMQ_ADMIN_USER: admin.accessKey, ROCKETMQ_ADMIN_SECRET: admin.secretKey, ...secrets },
    timeout: 180_000,
  });
}

const apps: RunningApp[] = [];
const prefix = `${uniqueName('acl')}:`;
const dataDir = mkdtempSync(join(tmpdir(), 'aip-acl-'));

afterAll(async () => {
  await Promise.all(apps.map((app) => stopApp(app)));
  const redis = testRedis();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
  await stopBroker(options);
}, 60_000);

async function publish(user: string | undefined, topic: string, secret = user ? password(user) : '', tag = 'probe', body = '{}'): Promise<string> {
  const producer = new Producer({ endpoints, namespace: '', requestTimeout: 3_000, maxAttempts: 1, logger: quiet, ...(user ? { sessionCredentials: { accessKey: user, accessSecret: secret } } : {}) } as never);
  try {
    await producer.startup();
    await producer.send({ topic, tag, keys: ['acl'], body: Buffer.from(body), ...(topic === TOPICS.rtcPush.name || topic === TOPICS.kbChange.name ? { messageGroup: 'acl-probe' } : {}) });
    return 'sent';
  } catch (error) {
    process.stderr.write(`[acl] publish ${user}→${topic}: ${(error as Error).message.slice(0, 300)}\n`);
    return `refused: ${(error as Error).message.slice(0, 200)}`;
  } finally {
    await producer.shutdown().catch(() => undefined);
  }
}

describe('the broker with access control on', () => {
  it('lets each service publish to its own topics', async () => {
    expect(await publish('access', TOPICS.aiRequest.name)).toBe('sent');
    expect(await publish('rate-limiter', TOPICS.aiInference.name)).toBe('sent');
    // The edges' admission fast path (ADR 0025) publishes what the limiter's script admitted.
    expect(await publish('access', TOPICS.aiInference.name)).toBe('sent');
    expect(await publish('intent-scheduler', TOPICS.rtcPush.name)).toBe('sent');
    expect(await publish('cdc', TOPICS.kbChange.name)).toBe('sent');
  }, 60_000);

  it('refuses a client without credentials, with a wrong secret, or publishing where it has no right', async () => {
    expect(await publish(undefined, TOPICS.aiInference.name)).toMatch(/^refused: .*username cannot be null/);
    expect(await publish('access', TOPICS.aiRequest.name, 'not-the-secret')).toMatch(/^refused: .*check signature failed/);
    // Skipping admission: only the limiter and the edges publish admitted requests.
    expect(await publish('inference', TOPICS.aiInference.name)).toMatch(/^refused/);
    expect(await publish('knowledge-ingest', TOPICS.aiInference.name)).toMatch(/^refused/);
    expect(await publish('cdc', TOPICS.aiInference.name)).toMatch(/^refused/);
    // A push with a phishing link: only the intent-scheduler publishes pushes.
    expect(await publish('access', TOPICS.rtcPush.name)).toMatch(/^refused/);
    expect(await publish('cdc', TOPICS.rtcPush.name)).toMatch(/^refused/);
    // A CDC producer feeds the knowledge base and nothing else.
    expect(await publish('cdc', TOPICS.aiRequest.name)).toMatch(/^refused/);
  }, 60_000);

  it('lets a service consume its topics with its group, and no one else use that group', async () => {
    const receive = async (user: string, group: string, topic: string) => {
      const consumer = new SimpleConsumer({ endpoints, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), requestTimeout: 3_000, awaitDuration: 5_000, logger: quiet, sessionCredentials: { accessKey: user, accessSecret: password(user) } } as never);
      try {
        await consumer.startup();
        await consumer.receive(1, 10_000);
        return 'received';
      } catch (error) {
        process.stderr.write(`[acl] receive ${user}/${group}: ${(error as Error).message.slice(0, 300)}\n`);
        return `refused: ${(error as Error).message.slice(0, 200)}`;
      } finally {
        await consumer.shutdown().catch(() => undefined);
      }
    };
    expect(await receive('rate-limiter', CONSUMER_GROUPS.rateLimiter.name, TOPICS.aiRequest.name)).toBe('received');
    expect(await receive('access', CONSUMER_GROUPS.rateLimiter.name, TOPICS.aiRequest.name)).toMatch(/^refused/);
    expect(await receive('inference', CONSUMER_GROUPS.rateLimiter.name, TOPICS.aiInference.name)).toMatch(/^refused: .*no permission to access Group:rate-limit/);
  }, 90_000);

  it('serves a chat completion through access, the limiter and a worker, each signed in as its own user', async () => {
    const signedIn = (user: string) => ({ ROCKETMQ_ENDPOINTS: endpoints, ROCKETMQ_ACCESS_KEY: user, ROCKETMQ_SECRET_KEY: password(user), REDIS_PREFIX: prefix, LANCEDB_DIR: join(dataDir, 'lancedb') });
    const adminToken = 'acl-admin-token-0123456789abcdef';
    const [access, limiter] = await startApps(apps, [
      startApp('access', { ...signedIn('access'), ADMIN_TOKEN: adminToken }),
      startApp('rate-limiter', signedIn('rate-limiter')),
      startApp('inference', { ...signedIn('inference'), WORKER_ID: `${prefix}worker` }),
    ]);
    const { key } = await createKey(access, adminToken);
    const response = await fetch(`${access.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'extractive', messages: [{ role: 'user', content: 'hello through the ACL' }] }),
      signal: AbortSignal.timeout(60_000),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ object: 'chat.completion', choices: [{ finish_reason: 'stop', message: { role: 'assistant', content: expect.any(String) } }] });

    // Poison, sent by a user allowed to publish there: the limiter, as itself, may dead-letter it.
    expect(await publish('access', TOPICS.aiRequest.name, password('access'), 'submitted', '{cut off')).toBe('sent');
    await eventually(async () => {
      const metrics = await (await fetch(`${limiter.url}/metrics`)).text();
      return metrics
        .split('\n')
        .some((line) => line.startsWith('aip_messaging_dead_lettered_total{') && line.includes('group="rate-limiter"') && line.includes('reason="schema"') && Number(line.split(' ').at(-1)) > 0);
    }, 'the limiter to dead-letter the poison', 30_000);
    expect(limiter.output.join('')).not.toMatch(/could not settle|no permission/);
  }, 180_000);
});
