// `npm start`: brings the platform up on its embedded defaults. Starts the local RocketMQ broker
// (unless ROCKETMQ_ENDPOINTS points at one), creates every topic and group of the contracts, then
// runs every built app (apps/*/dist/main.js) in the foreground until Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNamespace, brokerRights, brokerTopology, namespaced, TOPICS } from '@aip/contracts';
import { DEPLOY_APPS } from '@aip/deploy-tools';
import { createGroups, createTopics, ensureBroker, stopBroker, type BrokerOptions } from '@aip/rocketmq-local';
import { applyAccessControl } from '@aip/rocketmq-local/acl';
import { Producer } from 'rocketmq-client-nodejs';

const root = join(import.meta.dirname, '..', '..');
const log = (line: string) => process.stderr.write(`[platform] ${line}\n`);

// Local secrets live in .runtime (git-ignored, 0600): an admin token, a ready-made API key and,
// with ROCKETMQ_ACL=on, the broker users' secrets.
const runtime = join(root, '.runtime');
mkdirSync(runtime, { recursive: true });
const secret = (name: string, make: () => string) => {
  const file = join(runtime, name);
  if (!existsSync(file)) writeFileSync(file, make(), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
};
const brokerSecret = (user: string) => secret(`broker-${user}.secret`, () => randomBytes(24).toString('base64url'));

// ROCKETMQ_ACL=on: a broker of its own (.runtime/rocketmq-acl) with ACL 2.0, one user per service.
const acl = process.env['ROCKETMQ_ACL'] === 'on';
const brokerOptions: BrokerOptions = {
  log: (line) => process.stderr.write(`[rocketmq] ${line}\n`),
  ...(acl ? { runtimeDir: join(runtime, 'rocketmq-acl'), auth: { admin: { accessKey: 'aip-admin', secretKey: brokerSecret('aip-admin') } } } : {}),
};
const broker = await ensureBroker(brokerOptions);
// ROCKETMQ_NAMESPACE (inherited by every app below): the topology, and the rights, in that namespace (ADR 0021).
const namespace = assertNamespace(process.env['ROCKETMQ_NAMESPACE'] ?? '');
if (broker.namesrv) {
  const { topics, groups } = brokerTopology(namespace);
  await createTopics([...topics], { namesrv: broker.namesrv });
  await createGroups([...groups], { namesrv: broker.namesrv });
  if (acl) {
    await applyAccessControl(brokerRights(namespace).map(({ user, publish, subscribe }) => ({ credentials: { accessKey: user, secretKey: brokerSecret(user) }, publish, subscribe })), { namesrv: broker.namesrv });
    await refuseAnonymous(broker.endpoints);
  }
}
log(`RocketMQ proxy (gRPC) at ${broker.endpoints}${broker.startedByUs ? ' — started now' : ''}; topics and groups from libs/contracts are in place${namespace ? ` in namespace ${namespace}` : ''}${acl ? '; access control on: one broker user per service, secrets in .runtime/broker-<user>.secret' : ''}`);

/** With access control asked for, a broker that takes an anonymous publish is the wrong one: say so and stop. */
async function refuseAnonymous(endpoints: string) {
  const producer = new Producer({ endpoints, namespace: '', requestTimeout: 3_000, maxAttempts: 1 } as never);
  try {
    await producer.startup();
    await producer.send({ topic: namespaced(namespace, TOPICS.aiInference.name), tag: 'acl-check', body: Buffer.from('{}') });
  } catch {
    return; // refused, as it must be
  } finally {
    await producer.shutdown().catch(() => undefined);
  }
  log(`ROCKETMQ_ACL=on, but the broker at ${endpoints} took an anonymous publish: it runs without access control. Stop it (npm run broker -- stop) and start again.`);
  process.exit(1);
}
const adminToken = process.env['ADMIN_TOKEN'] ?? secret('admin-token', () => randomBytes(24).toString('base64url'));
// Seals provider keys of the routing document at rest (access seals, inference opens).
const configEncryptionKey = process.env['CONFIG_ENCRYPTION_KEY'] ?? secret('config-encryption-key', () => randomBytes(32).toString('hex'));
const accessPort = Number(process.env['ACCESS_PORT'] ?? 3000);
// Each app's default port, from the one table of apps (tools/deploy/apps.ts).
const portOf = new Map(DEPLOY_APPS.map((app) => [app.name, app.name === 'access' ? accessPort : app.port]));

const appsDir = join(root, 'apps');
const apps = existsSync(appsDir) ? readdirSync(appsDir).filter((name) => existsSync(join(appsDir, name, 'dist', 'main.js'))) : [];
const children: ChildProcess[] = apps.map((name) => {
  const child = spawn(process.execPath, ['--enable-source-maps', join(appsDir, name, 'dist', 'main.js')], {
    stdio: 'inherit',
    env: {
      ...process.env,
      ROCKETMQ_ENDPOINTS: broker.endpoints,
      ADMIN_TOKEN: adminToken,
      CONFIG_ENCRYPTION_KEY: configEncryptionKey,
      // The usage ledger keeps its rows across restarts (PGlite's data directory) unless DATABASE_URL names a PostgreSQL.
      ...(name === 'access' ? { PORT: String(accessPort), USAGE_DB_DIR: process.env['USAGE_DB_DIR'] ?? join(runtime, 'usage-ledger') } : {}),
      ...(acl ? { ROCKETMQ_ACCESS_KEY: name, ROCKETMQ_SECRET_KEY: brokerSecret(name) } : {}),
    },
  });
  child.on('exit', (code, signal) => log(`${name} exited (${signal ?? code})`));
  return child;
});

if (children.length === 0) {
  log('no app is built yet: the broker keeps running in the background.');
  log('stop it with `npm run broker -- stop`; inspect it with `npm run broker -- status`.');
} else {
  log(`running ${apps.join(', ')} — Ctrl-C stops them${broker.startedByUs ? ' and the broker' : ''}`);
  const shutdown = async () => {
    await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : (child.once('exit', resolve), child.kill('SIGTERM'))))));
    if (broker.startedByUs) await stopBroker(brokerOptions);
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  if (apps.includes('access')) await printHowToCall();
  await reportReadiness();
}

/** Polls an app's readiness every 500 ms; false when `deadline` passes first. */
async function ready(port: number, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    if (await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok, () => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

/** Waits (up to two minutes) until every app answers ready, and says which do not. */
async function reportReadiness() {
  const deadline = Date.now() + 120_000;
  const known = apps.filter((name) => portOf.has(name));
  const results = await Promise.all(known.map(async (name) => ({ name, ready: await ready(portOf.get(name)!, deadline) })));
  const pending = results.filter((result) => !result.ready).map((result) => result.name);
  log(pending.length === 0 ? `all ${known.length} apps are ready` : `not ready after 2 minutes: ${pending.join(', ')} (see their logs above)`);
}

async function printHowToCall() {
  const base = `http://127.0.0.1:${accessPort}`;
  await ready(accessPort, Date.now() + 60_000);
  const keyFile = join(runtime, 'dev-api-key');
  let key = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : '';
  const valid = key && (await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.ok, () => false));
  if (!valid) {
    const created = await fetch(`${base}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: 'local', name: 'npm start' }) });
    key = ((await created.json()) as { key: string }).key;
    writeFileSync(keyFile, key, { mode: 0o600 });
  }
  log(`ready at ${base} — a local API key is in .runtime/dev-api-key, the admin token in .runtime/admin-token`);
  const page = `http://127.0.0.1:${portOf.get('rtc-push')}/`; // rtc-push serves the page
  process.stderr.write(`
  Web page (chat, proactive prompts, uploads): ${page}  — paste the key from .runtime/dev-api-key

  Upload documents to answer from, then ask about them:
  npm run kb:upload -- README.md docs/guides/*.md

  curl ${base}/v1/chat/completions -H "Authorization: Bearer $(cat .runtime/dev-api-key)" \\
    -H 'content-type: application/json' -d '{"model":"extractive","stream":true,"messages":[{"role":"user","content":"Hello"}]}'

  // openai SDK
  const client = new OpenAI({ baseURL: '${base}/v1', apiKey: '<.runtime/dev-api-key>' });
  for await (const chunk of await client.chat.completions.create({ model: 'extractive', stream: true, messages: [{ role: 'user', content: 'Hello' }] }))
    process.stdout.write(chunk.choices[0]?.delta.content ?? '');

`);
}
