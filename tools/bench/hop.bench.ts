// One message hop, one message at a time: what a single step of the request path costs at the
// floor, with no load. RocketMQ through the proxy with the official Node client (send RPC, send →
// a parked long-poll receive returns, ack RPC, Node CPU per send) against a Redis stream hop on the
// same machine in the same run (XADD, XADD → a parked XREAD BLOCK returns) as the baseline.
// Run: npm run bench:hop   (BENCH_HOPS=200)
import { cpus } from 'node:os';
import { createGroups, createTopics, ensureBroker, stopBroker } from '@aip/rocketmq-local';
import { Redis } from 'ioredis';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { percentile } from './percentile.ts';

const HOPS = Number(process.env['BENCH_HOPS'] ?? 200);
const WARMUP = 50;
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const id = Date.now().toString(36);
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

interface Sample { sendMs: number; deliverMs: number; ackMs: number }

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const figure = (values: number[]) => `${percentile(sorted(values), 0.5).toFixed(2)} / ${percentile(sorted(values), 0.99).toFixed(2)}`;
const park = () => new Promise((resolve) => setTimeout(resolve, 20)); // let the receive reach the server

async function rocketmqHops(endpoints: string): Promise<{ samples: Sample[]; cpuPerSendMs: number }> {
  const topic = `bench-hop-${id}`;
  const group = `bench-hop-${id}`;
  await createTopics([{ name: topic, messageType: 'NORMAL' }]);
  await createGroups([{ name: group, orderly: false, retryMaxTimes: 2 }]);
  const producer = new Producer({ endpoints, namespace: '', maxAttempts: 1, logger: quiet } as never);
  const consumer = new SimpleConsumer({ endpoints, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration: 5_000, logger: quiet } as never);
  await producer.startup();
  await consumer.startup();
  const samples: Sample[] = [];
  let cpu = 0;
  try {
    for (let i = 0; i < WARMUP + HOPS; i++) {
      const received = consumer.receive(1, 15_000).then((messages) => ({ at: performance.now(), messages }));
      await park();
      const cpuBefore = process.cpuUsage();
      const sentAt = performance.now();
      await producer.send({ topic, body: Buffer.from(String(i)) });
      const sendMs = performance.now() - sentAt;
      const cpuUsed = process.cpuUsage(cpuBefore);
      const { at, messages } = await received;
      const ackAt = performance.now();
      for (const message of messages) await consumer.ack(message);
      if (i >= WARMUP) {
        samples.push({ sendMs, deliverMs: at - sentAt, ackMs: performance.now() - ackAt });
        cpu += (cpuUsed.user + cpuUsed.system) / 1_000;
      }
    }
  } finally {
    await consumer.shutdown().catch(() => undefined);
    await producer.shutdown().catch(() => undefined);
  }
  return { samples, cpuPerSendMs: cpu / HOPS };
}

async function redisHops(): Promise<Sample[]> {
  const writer = new Redis(REDIS_URL);
  const reader = new Redis(REDIS_URL);
  const stream = `bench:hop:${id}`;
  const samples: Sample[] = [];
  try {
    let last = '$';
    for (let i = 0; i < WARMUP + HOPS; i++) {
      const received = reader.xread('BLOCK', 5_000, 'STREAMS', stream, last).then((reply) => ({ at: performance.now(), reply }));
      await park();
      const sentAt = performance.now();
      const entryId = await writer.xadd(stream, '*', 'i', String(i));
      const sendMs = performance.now() - sentAt;
      const { at } = await received;
      last = entryId ?? last;
      if (i >= WARMUP) samples.push({ sendMs, deliverMs: at - sentAt, ackMs: 0 });
    }
  } finally {
    await writer.del(stream);
    writer.disconnect();
    reader.disconnect();
  }
  return samples;
}

const broker = await ensureBroker({ log: (line) => process.stderr.write(`[rocketmq] ${line}\n`) });
try {
  console.log(`hop bench: ${HOPS} hops one at a time (after ${WARMUP} warm-up), Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), broker ${broker.endpoints}, Redis ${REDIS_URL}`);
  const rocketmq = await rocketmqHops(broker.endpoints);
  const redis = await redisHops();
  const of = (samples: Sample[], key: keyof Sample) => samples.map((sample) => sample[key]);
  console.log(`\n${'hop'.padEnd(40)}  ${'send p50 / p99 ms'.padStart(18)}  ${'delivered p50 / p99 ms'.padStart(23)}  ${'ack p50 / p99 ms'.padStart(17)}`);
  console.log(`${'RocketMQ (proxy gRPC, SimpleConsumer)'.padEnd(40)}  ${figure(of(rocketmq.samples, 'sendMs')).padStart(18)}  ${figure(of(rocketmq.samples, 'deliverMs')).padStart(23)}  ${figure(of(rocketmq.samples, 'ackMs')).padStart(17)}`);
  console.log(`${'Redis stream (XADD, XREAD BLOCK)'.padEnd(40)}  ${figure(of(redis, 'sendMs')).padStart(18)}  ${figure(of(redis, 'deliverMs')).padStart(23)}  ${'-'.padStart(17)}`);
  const ratio = percentile(sorted(of(rocketmq.samples, 'deliverMs')), 0.5) / percentile(sorted(of(redis, 'deliverMs')), 0.5);
  console.log(`\nNode CPU per RocketMQ send: ${rocketmq.cpuPerSendMs.toFixed(2)} ms`);
  console.log(`delivered p50, RocketMQ / Redis stream: ${ratio.toFixed(1)}x`);
} finally {
  if (broker.startedByUs) await stopBroker();
}
process.exit(0);
