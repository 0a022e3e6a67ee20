// `npm start`: brings the platform up on its embedded defaults. Starts the local RocketMQ broker
// (unless ROCKETMQ_ENDPOINTS points at one), creates every topic and group of the contracts, then
// runs every built app (apps/*/dist/main.js) in the foreground until Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { brokerTopology } from '@aip/contracts';
import { createGroups, createTopics, ensureBroker, stopBroker } from '@aip/rocketmq-local';

const root = join(import.meta.dirname, '..', '..');
const log = (line: string) => process.stderr.write(`[platform] ${line}\n`);

const broker = await ensureBroker({ log: (line) => process.stderr.write(`[rocketmq] ${line}\n`) });
if (broker.namesrv) {
  const { topics, groups } = brokerTopology();
  await createTopics([...topics]);
  await createGroups([...groups]);
}
log(`RocketMQ proxy (gRPC) at ${broker.endpoints}${broker.startedByUs ? ' — started now' : ''}; topics and groups from libs/contracts are in place`);

const appsDir = join(root, 'apps');
const apps = existsSync(appsDir) ? readdirSync(appsDir).filter((name) => existsSync(join(appsDir, name, 'dist', 'main.js'))) : [];
const children: ChildProcess[] = apps.map((name) => {
  const child = spawn(process.execPath, ['--enable-source-maps', join(appsDir, name, 'dist', 'main.js')], {
    stdio: 'inherit',
    env: { ...process.env, ROCKETMQ_ENDPOINTS: broker.endpoints },
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
    if (broker.startedByUs) await stopBroker();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
