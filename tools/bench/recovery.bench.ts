// How long after a broker restart the platform can publish again: the time from "the proxy
// answers again" to the first successful send, for the platform's EventPublisher against the raw
// client's Producer (the baseline), each in a process of its own (gRPC shares its connections —
// and their reconnect backoff — process-wide), both sending every 100 ms through a broker of the
// bench's own that is killed with SIGKILL and restarted. The shared broker is never touched.
// Run: npm run bench:recovery   (BENCH_RESTARTS=3, BENCH_OUTAGE_MS=5000)
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createTopics, ensureBroker, stopBroker, type BrokerOptions } from '@aip/rocketmq-local';

const RESTARTS = Number(process.env['BENCH_RESTARTS'] ?? 3);
const OUTAGE_MS = Number(process.env['BENCH_OUTAGE_MS'] ?? 5_000);
const root = fileURLToPath(new URL('../../', import.meta.url));
const options: BrokerOptions = {
  runtimeDir: join(root, '.runtime', 'rocketmq-bench'),
  namesrvPort: 29_876,
  proxyPort: 29_081,
  remotingPort: 29_080,
  brokerPort: 30_911,
  log: (line) => process.stderr.write(`[rocketmq] ${line}\n`),
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const side = process.argv[2];

if (side === 'platform' || side === 'raw') {
  // A sender: one publish every 100 ms; prints the time of each success.
  const endpoints = process.argv[3] ?? '';
  let send: () => Promise<unknown>;
  if (side === 'platform') {
    const { EventPublisher, MessagingMetrics } = await import('@aip/messaging');
    const { default: pino } = await import('pino');
    const publisher = new EventPublisher({ connection: { endpoints }, source: 'bench', sendTimeoutMs: 3_000, logger: pino({ level: 'silent' }), metrics: MessagingMetrics.for() });
    send = () => publisher.publish('ai.inference.cancelled', { taskId: 'bench', apiKeyId: 'bench' }, { tenantId: 'bench' });
  } else {
    const { Producer } = await import('rocketmq-client-nodejs');
    const quiet = { info() {}, warn() {}, error() {}, debug() {} };
    const producer = new Producer({ endpoints, namespace: '', maxAttempts: 2, requestTimeout: 3_000, logger: quiet } as never);
    await producer.startup();
    send = () => producer.send({ topic: 'ai-lifecycle', tag: 'cancelled', body: Buffer.from('{}') });
  }
  for (;;) {
    const started = Date.now();
    await Promise.race([
      send().then(
        () => process.stdout.write(`ok ${Date.now()}\n`),
        (error: unknown) => process.env['BENCH_DEBUG'] && process.stderr.write(`${side} ${new Date().toISOString()} ${String((error as Error).message).slice(0, 200)}\n`),
      ),
      sleep(3_000),
    ]);
    await sleep(Math.max(0, 100 - (Date.now() - started)));
  }
}

delete process.env['ROCKETMQ_ENDPOINTS']; // ensureBroker would hand back the shared broker
const { endpoints, namesrv } = await ensureBroker(options);
await createTopics([{ name: 'ai-lifecycle', messageType: 'NORMAL' }], { namesrv });

const SIDES = { platform: 'EventPublisher', raw: 'raw Producer (baseline)' } as const;
const lastOk = { platform: 0, raw: 0 };
const children = (['platform', 'raw'] as const).map((name) => {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), name, endpoints], { stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const at = Number(line.split(' ')[1]);
    if (Number.isFinite(at)) lastOk[name] = Math.max(lastOk[name], at);
  });
  return child;
});

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });
}

const results = { platform: [] as number[], raw: [] as number[] };
await sleep(3_000);
for (let i = 0; i < RESTARTS; i++) {
  await sleep(2_000);
  await stopBroker({ ...options, force: true });
  await sleep(OUTAGE_MS);
  // "Back" = the proxy's port accepts connections again (ensureBroker's own readiness check runs
  // over gRPC from this process, so it would include this process's reconnect backoff).
  const starting = ensureBroker(options);
  while (!(await accepts(options.proxyPort ?? 0))) await sleep(50);
  const back = Date.now();
  await starting;
  while ((lastOk.platform < back || lastOk.raw < back) && Date.now() - back < 60_000) await sleep(20);
  for (const name of ['platform', 'raw'] as const) results[name].push(lastOk[name] >= back ? lastOk[name] - back : Number.NaN);
  process.stderr.write(`restart ${i + 1}: ${SIDES.platform} ${results.platform.at(-1)} ms, ${SIDES.raw} ${results.raw.at(-1)} ms\n`);
}
for (const child of children) child.kill('SIGKILL');
await stopBroker(options);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
console.log(`first successful send after the broker answers again (${RESTARTS} restarts, ${OUTAGE_MS} ms outages), median (all):`);
for (const name of ['platform', 'raw'] as const) {
  console.log(`  ${SIDES[name].padEnd(24)} ${median(results[name])} ms  (${results[name].join(', ')})  ${(median(results[name]) / median(results.raw)).toFixed(2)}× the baseline`);
}
process.exit(0);
