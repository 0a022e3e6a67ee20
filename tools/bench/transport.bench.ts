// Transport benchmark: the same N messages published and consumed through the raw
// rocketmq-client-nodejs client and through our NestJS transport (EventPublisher +
// RocketMQServer), against the same local broker, in one run, alternating rounds.
// Run: npm run bench  (builds first; uses the built libraries, as a deployed app would).
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Payload } from '@nestjs/microservices';
import { createEnvelope } from '@aip/contracts';
import { EventPublisher, MessagingMetrics, RocketMQEvent, RocketMQServer } from '@aip/messaging';
import { createGroups, createTopics, ensureBroker, stopBroker } from '@aip/rocketmq-local';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { cpus } from 'node:os';
import { percentile } from './percentile.ts';

const N = Number(process.env['BENCH_MESSAGES'] ?? 3000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
// The broker's JIT needs a few thousand messages before throughput settles: the first round of
// each side is a warm-up and is not counted.
const WARMUP = 1;
const WINDOW = 64; // publishes in flight at once, for both sides
const CONSUMER_SLOTS = 32;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const logger = pino({ level: 'silent' });
const id = Date.now().toString(36);

interface Result { name: string; seconds: number; throughput: number; p50: number; p99: number }

async function inWindow(count: number, send: (i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: WINDOW }, async () => {
    while (next < count) await send(next++);
  }));
}

function summarise(name: string, started: number, finished: number, latencies: number[]): Result {
  const sorted = [...latencies].sort((a, b) => a - b);
  const seconds = (finished - started) / 1000;
  return { name, seconds, throughput: N / seconds, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

async function raw(endpoints: string, topic: string, group: string): Promise<Result> {
  const producer = new Producer({ endpoints, namespace: '', logger: quiet });
  const consumer = new SimpleConsumer({ endpoints, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration: 5_000, logger: quiet });
  await producer.startup();
  await consumer.startup();
  const latencies: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let running = true;
  const loop = (async () => {
    while (running) {
      const batch = await consumer.receive(CONSUMER_SLOTS, 15_000);
      await Promise.all(batch.map(async (message) => {
        const envelope = JSON.parse(message.body.toString()) as { data: { docId: string } };
        latencies.push(performance.now() + performance.timeOrigin - Number(envelope.data.docId));
        await consumer.ack(message);
      }));
      if (latencies.length >= N) done();
    }
  })();
  const started = Date.now();
  await inWindow(N, (i) => {
    const envelope = createEnvelope('kb.document.deleted', { kbId: String(i), docId: String(performance.now() + performance.timeOrigin) }, { source: 'bench', tenantId: 'bench' });
    return producer.send({ topic, tag: 'deleted', keys: [envelope.data.kbId], body: Buffer.from(JSON.stringify(envelope)) });
  });
  await finished;
  const result = summarise('raw rocketmq-client-nodejs', started, Date.now(), latencies);
  running = false;
  await loop.catch(() => undefined);
  await consumer.shutdown();
  await producer.shutdown();
  return result;
}

async function transport(endpoints: string, topic: string, group: string): Promise<Result> {
  const latencies: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  class Handlers {
    on(event: { data: { docId: string } }) {
      latencies.push(performance.now() + performance.timeOrigin - Number(event.data.docId));
      if (latencies.length >= N) done();
    }
  }
  // Decorators applied by hand: this script runs under Node's type stripping.
  Payload()(Handlers.prototype, 'on', 0);
  RocketMQEvent('kb.document.deleted', { topic })(Handlers.prototype, 'on', Object.getOwnPropertyDescriptor(Handlers.prototype, 'on')!);
  Controller()(Handlers);
  class BenchModule {}
  Module({ controllers: [Handlers] })(BenchModule);
  const metrics = MessagingMetrics.for(new Registry());
  const app = await NestFactory.createMicroservice(BenchModule, {
    logger: false,
    strategy: new RocketMQServer({ connection: { endpoints }, group, concurrency: CONSUMER_SLOTS, logger, metrics }),
  });
  await app.listen();
  const publisher = new EventPublisher({ connection: { endpoints }, source: 'bench', logger, metrics });
  const started = Date.now();
  await inWindow(N, (i) => publisher.publish('kb.document.deleted', { kbId: String(i), docId: String(performance.now() + performance.timeOrigin) }, { tenantId: 'bench', topic }));
  await finished;
  const result = summarise('NestJS transport', started, Date.now(), latencies);
  await app.close();
  await publisher.close();
  return result;
}

const broker = await ensureBroker({ log: (line) => process.stderr.write(`[rocketmq] ${line}\n`) });
const results: Result[] = [];
try {
  for (let round = 0; round < ROUNDS + WARMUP; round++) {
    for (const [name, run] of [['raw', raw], ['transport', transport]] as const) {
      const topic = `bench-${name}-${id}-${round}`;
      const group = `bench-${name}-${id}-${round}`;
      await createTopics([{ name: topic, messageType: 'NORMAL' }]);
      await createGroups([{ name: group, orderly: false, retryMaxTimes: 3 }]);
      const result = await run(broker.endpoints, topic, group);
      if (round >= WARMUP) results.push(result);
      console.log(`${round < WARMUP ? 'warm-up' : `round ${round}`} ${result.name.padEnd(28)} ${result.throughput.toFixed(0).padStart(6)} msg/s  p50 ${result.p50.toFixed(1)} ms  p99 ${result.p99.toFixed(1)} ms`);
    }
  }
} finally {
  if (broker.startedByUs) await stopBroker();
}

const best = (name: string) => results.filter((r) => r.name === name).sort((a, b) => b.throughput - a.throughput)[0]!;
const rawBest = best('raw rocketmq-client-nodejs');
const ours = best('NestJS transport');
console.log(`\n${N} messages x ${ROUNDS} rounds after a warm-up, ${cpus().length} cores, Node ${process.version}, best round of each:`);
console.log(`| path | msgs/s | p50 publish→handler | p99 publish→handler |`);
console.log(`|---|---|---|---|`);
for (const r of [rawBest, ours]) console.log(`| ${r.name} | ${r.throughput.toFixed(0)} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms |`);
console.log(`\nthroughput ratio transport/raw: ${(ours.throughput / rawBest.throughput).toFixed(2)} (target ≥ 0.90)`);
process.exit(0);
