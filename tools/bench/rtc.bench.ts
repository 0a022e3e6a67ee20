// rtc-push: (1) WebSocket connections one instance holds and its memory per connection; (2) push
// latency from publish on the central topic to receipt by the client at a steady rate, next to a
// baseline in the same run: the same delivery path (inbox append + pub/sub doorbell + socket)
// without the broker hop. Run: npm run bench:rtc (builds rtc-push and its libraries, and
// @aip/testing, then runs node tools/bench/rtc.bench.ts on their built dist).
// Env: BENCH_CONNECTIONS (10000), BENCH_RPS (1000), BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (10: through
//      the broker before the measured phase, printed apart), BENCH_USERS (= connections),
//      ROCKETMQ_TOPIC_QUEUES (4: queues of this run's topics, the central topic included).
// Each phase also prints how long the publish itself took (the broker's send), apart from delivery.
// Every socket is a file descriptor on both sides: the child is started through `sh -c "ulimit -n
// …"` and this process raises its own soft limit the same way (re-exec); the hard limit caps both.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokerTopology } from '@aip/contracts';
import { ApiKeyStore } from '@aip/keys';
import { EventPublisher, MessagingMetrics } from '@aip/messaging';
import { createGroups, createTopics, ensureBroker } from '@aip/rocketmq-local';
import { deleteKeys } from '@aip/testing';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { cpuTable, machineProcesses, meterCpu } from './cpu.ts';
import { percentile } from './percentile.ts';

const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 10_000);
const RATE = Number(process.env['BENCH_RPS'] ?? 1_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 10);
// One connection per user by default, so N pushes/s are N frames/s (several connections per user multiply the frames).
const USERS = Math.min(CONNECTIONS, Number(process.env['BENCH_USERS'] ?? CONNECTIONS));
const root = join(import.meta.dirname, '..', '..');
const hardLimit = Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()) || 65_536;
const fdLimit = Math.min(hardLimit, CONNECTIONS + 2_000);

if (process.env['RTC_BENCH_CHILD'] !== '1') {
  // Re-run this script with the soft fd limit raised (a process cannot raise its own from Node).
  const args = [...process.execArgv, ...process.argv.slice(1)].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('sh', ['-c', `ulimit -n ${fdLimit} && exec '${process.execPath}' ${args}`], { env: { ...process.env, RTC_BENCH_CHILD: '1' }, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await run();
}

async function run() {
  const logger = pino({ level: 'silent' });
  const broker = await ensureBroker();
  const stamp = Date.now().toString(36);
  // The contracts' topics and groups in a namespace of this run's own: no other rtc-push takes its pushes.
  const namespace = `rtc-bench-${stamp}`;
  const prefix = `rtcbench${stamp}:`;
  const topology = brokerTopology(namespace);
  await createTopics([...topology.topics]);
  await createGroups([...topology.groups]);
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  const tenantId = 'bench';
  const { key } = await new ApiKeyStore(redis, prefix).create({ tenantId });
  const port = 3950;
  const app = spawn('sh', ['-c', `ulimit -n ${fdLimit} && exec '${process.execPath}' '${join(root, 'apps', 'rtc-push', 'dist', 'main.js')}'`], {
    env: { ...process.env, ROCKETMQ_ENDPOINTS: broker.endpoints, REDIS_PREFIX: prefix, PORT: String(port), ROCKETMQ_NAMESPACE: namespace, PUSH_CONCURRENCY: '256', LOG_LEVEL: 'error', RTC_INSTANCE_ID: `bench-${stamp}`, SWEEP_INTERVAL_MS: '0', HEARTBEAT_MS: '60000', MAX_CONNECTIONS_PER_USER: String(CONNECTIONS), MAX_CONNECTIONS_PER_KEY: String(CONNECTIONS), IP_RATE_LIMIT: '0' },
    stdio: 'inherit',
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120 && !(await fetch(`${base}/health/ready`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 500));
  const appPid = Number(execFileSync('sh', ['-c', `pgrep -P ${app.pid} || echo ${app.pid}`], { encoding: 'utf8' }).trim().split('\n')[0]);
  const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${appPid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  await new Promise((r) => setTimeout(r, 3_000)); // consumer subscribed and polling
  global.gc?.();
  const rssBefore = rssMb();

  // --- 1. connections
  const received = new Map<string, number>(); // push text (carries its publish time key) → receipt time
  const sockets: WebSocket[] = [];
  const opened = performance.now();
  const open = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const user = `u${i % USERS}`;
      const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/ws?user=${user}`, { headers: { authorization: `Bearer ${key}` }, perMessageDeflate: false });
      socket.on('error', reject);
      // Refused after the upgrade (a connection cap): a close frame, no error.
      socket.on('close', (code, reason) => reject(new Error(`closed ${code} ${String(reason)}`)));
      socket.on('open', () => socket.send('{"type":"hello","v":1}'));
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string; id?: string; text?: string; redelivery?: number };
        if (frame.type === 'welcome') resolve();
        else if (frame.type === 'push' && frame.redelivery === 0) {
          if (!received.has(frame.text!)) received.set(frame.text!, performance.now());
          socket.send(JSON.stringify({ type: 'ack', ids: [frame.id] }));
        }
      });
      sockets.push(socket);
    });
  let failedConnections = 0;
  for (let i = 0; i < CONNECTIONS; i += 200) {
    const batch = await Promise.allSettled(Array.from({ length: Math.min(200, CONNECTIONS - i) }, (_, j) => open(i + j)));
    failedConnections += batch.filter((r) => r.status === 'rejected').length;
  }
  const connectSeconds = (performance.now() - opened) / 1_000;
  await new Promise((r) => setTimeout(r, 2_000));
  const rssAfter = rssMb();
  const held = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  console.log(`connections: ${held} open of ${CONNECTIONS} (${failedConnections} failed) in ${connectSeconds.toFixed(1)} s; rtc-push RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB = ${(((rssAfter - rssBefore) * 1024) / Math.max(1, held)).toFixed(1)} KiB per connection`);

  // --- 2. latency: only the first connection of each user is counted (users hold CONNECTIONS/USERS sockets each).
  const publisher = new EventPublisher({ connection: { endpoints: broker.endpoints, namespace }, source: 'bench', logger, metrics: MessagingMetrics.for(new Registry()) });
  const channel = `${prefix}rtc:instance:bench-${stamp}`;
  const sentAt = new Map<string, number>();
  async function load(name: string, send: (user: string, text: string) => Promise<unknown>, seconds = SECONDS) {
    const total = RATE * seconds;
    let failures = 0;
    const sentFor: number[] = [];
    const pending: Promise<void>[] = [];
    const meter = meterCpu([{ name: 'rtc-push', pid: appPid }, ...machineProcesses()], 'benchmark client (publisher, sockets)');
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1_000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const text = `${name}-${i}`;
      sentAt.set(text, performance.now());
      pending.push(send(`u${i % USERS}`, text).then(() => void sentFor.push(performance.now() - sentAt.get(text)!), () => void failures++));
    }
    await Promise.all(pending);
    const deadline = performance.now() + 30_000;
    const names = Array.from({ length: total }, (_, i) => `${name}-${i}`);
    while (performance.now() < deadline && names.some((n) => !received.has(n))) await new Promise((r) => setTimeout(r, 100));
    const cpu = meter.stop();
    const elapsed = (performance.now() - started) / 1_000;
    const latencies = names.filter((n) => received.has(n)).map((n) => received.get(n)! - sentAt.get(n)!).sort((x, y) => x - y);
    sentFor.sort((x, y) => x - y);
    const result = { name, publishP50: percentile(sentFor, 0.5), publishP99: percentile(sentFor, 0.99), p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), lost: total - latencies.length, failures };
    console.log(`\nCPU, ${name} (${total} pushes over ${elapsed.toFixed(1)} s, until the last was received):\n${cpuTable(cpu, total, elapsed, 'push', 'pushes')}\n`);
    console.log(`${name.padEnd(26)} ${RATE}/s x ${seconds} s: p50 ${result.p50.toFixed(1)} ms  p99 ${result.p99.toFixed(1)} ms  max ${(latencies.at(-1) ?? NaN).toFixed(1)} ms  not received ${result.lost}  publish failures ${failures}  (publish itself p50 ${result.publishP50.toFixed(1)} ms, p99 ${result.publishP99.toFixed(1)} ms)`);
    return result;
  }

  // Baseline: the same inbox append + doorbell + socket, written straight to Redis (no broker hop).
  const baselineScript = `local seq = redis.call('INCR', KEYS[2]) redis.call('XADD', KEYS[1], 'MAXLEN', '1000', '*', 's', seq, 'p', ARGV[1]) redis.call('PEXPIRE', KEYS[1], 600000) return seq`;
  const baseline = await load('baseline (redis only)', async (user, text) => {
    const k = `${prefix}rtc:{${tenantId}:${user}}`;
    await redis.eval(baselineScript, 2, `${k}:inbox`, `${k}:seq`, JSON.stringify({ kind: 'notice', title: 'b', text, time: new Date().toISOString() }));
    await redis.publish(channel, JSON.stringify({ tenantId, userId: user }));
  });
  const viaBroker = (user: string, text: string) => publisher.publish('rtc.push.notice', { userId: user, title: 'bench', text }, { tenantId });
  // A broker (and rtc-push) that just started compiles its hot paths under the first load: the
  // first seconds at 1,000/s queue for seconds. Warm both up as a running system is, then measure.
  await load('warm-up (broker, cold)', viaBroker, WARMUP_SECONDS);
  const platform = await load('through the broker', viaBroker);
  console.log(`ratio p50 ${(platform.p50 / baseline.p50).toFixed(2)}x, p99 ${(platform.p99 / baseline.p99).toFixed(2)}x (broker path / redis-only path)`);

  for (const socket of sockets) socket.terminate();
  await publisher.close();
  app.kill('SIGTERM');
  await new Promise((r) => app.once('exit', r));
  await deleteKeys(redis, prefix);
  redis.disconnect();
  process.exit(0);
}
