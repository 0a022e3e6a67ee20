// End-to-end smoke check against a running broker, with rocketmq-client-nodejs:
// unique NORMAL + FIFO topics and groups, send/receive/ack, FIFO order per message group, and
// (with `dlq`) a message dead-lettered after retryMaxTimes and replayed with dlqReplay.
// Run: node tools/rocketmq/cli.ts smoke [--dlq]

import { createGroups, createTopics, ensureBroker } from '@aip/rocketmq-local';
import { dlqList, dlqReplay, loadClient, quietLogger } from '@aip/rocketmq-local/dlq';

interface View { messageId: string; body: Buffer; messageGroup?: string; deliveryAttempt?: number; properties: Map<string, string> }
interface Consumer { startup(): Promise<void>; shutdown(): Promise<void>; receive(n: number, ms: number): Promise<View[]>; ack(m: View): Promise<void> }

export async function smoke(opts: { dlq?: boolean; log?: (m: string) => void } = {}): Promise<void> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const t0 = Date.now();
  const el = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const { endpoints } = await ensureBroker({ log });
  const run = `smoke-${Date.now().toString(36)}`;
  const normal = `${run}-normal`;
  const fifo = `${run}-fifo`;
  const dlqT = `${run}-dlq`;
  await createTopics([{ name: normal, messageType: 'NORMAL' }, { name: fifo, messageType: 'FIFO' }, { name: dlqT, messageType: 'NORMAL' }]);
  await createGroups([
    { name: `${run}-g-normal`, orderly: false, retryMaxTimes: 3 },
    { name: `${run}-g-fifo`, orderly: true, retryMaxTimes: 3 },
    { name: `${run}-g-dlq`, orderly: false, retryMaxTimes: 1 },
    { name: `${run}-g-check`, orderly: false, retryMaxTimes: 3 },
  ]);
  log(`${el()} topics/groups created (${run})`);

  const { Producer, SimpleConsumer } = await loadClient();
  const logger = quietLogger();
  const producer = new Producer({ endpoints, namespace: '', logger });
  await producer.startup();
  const consumer = (group: string, topic: string): Consumer =>
    new SimpleConsumer({ endpoints, namespace: '', logger, consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration: 5000 }) as unknown as Consumer;

  // NORMAL
  const sent = await producer.send({ topic: normal, tag: 'A', keys: ['k'], body: Buffer.from('hello') });
  const cn = consumer(`${run}-g-normal`, normal);
  await cn.startup();
  const got = await cn.receive(16, 15_000);
  const first = got[0];
  if (got.length !== 1 || !first || first.messageId !== sent.messageId) throw new Error(`NORMAL: expected ${sent.messageId}, got ${got.map((m) => m.messageId)}`);
  await cn.ack(first);
  await cn.shutdown();
  log(`${el()} NORMAL send/receive/ack ok`);

  // FIFO: 2 message groups x 10 messages, order must hold per group
  for (let i = 0; i < 10; i++) {
    for (const g of ['a', 'b']) await producer.send({ topic: fifo, messageGroup: `mg-${g}`, body: Buffer.from(`${g}:${i}`) });
  }
  const cf = consumer(`${run}-g-fifo`, fifo);
  await cf.startup();
  const seen = new Map<string, number[]>([['a', []], ['b', []]]);
  const count = (g: string) => seen.get(g)?.length ?? 0;
  const deadline = Date.now() + 60_000;
  while ((count('a') < 10 || count('b') < 10) && Date.now() < deadline) {
    for (const m of await cf.receive(32, 15_000)) {
      const [g = '', i] = m.body.toString().split(':');
      seen.get(g)?.push(Number(i));
      await cf.ack(m);
    }
  }
  await cf.shutdown();
  for (const g of ['a', 'b']) {
    const s = seen.get(g) ?? [];
    if (s.length !== 10 || s.some((v, i) => v !== i)) throw new Error(`FIFO order broken for mg-${g}: ${s.join(',')}`);
  }
  log(`${el()} FIFO order ok (2 groups x 10)`);

  if (opts.dlq) {
    const dm = await producer.send({ topic: dlqT, tag: 'D', keys: ['dk'], body: Buffer.from('to the DLQ'), properties: new Map([['p', '1']]) });
    const cd = consumer(`${run}-g-dlq`, dlqT);
    await cd.startup();
    const attempts: number[] = [];
    const dl = Date.now() + 120_000;
    // Never ack. retryMaxTimes 1 => 2 deliveries; the proxy forwards the message to %DLQ% lazily,
    // on the first pop after the last delivery's invisible time ran out — so keep receiving.
    let list = await dlqList(`${run}-g-dlq`);
    while (Date.now() < dl && !list.some((e) => e.messageId === dm.messageId)) {
      for (const m of await cd.receive(16, 10_000)) attempts.push(m.deliveryAttempt ?? 0);
      list = await dlqList(`${run}-g-dlq`);
    }
    await cd.shutdown();
    log(`${el()} dead-lettered after deliveries with attempts ${attempts.join(',')}`);
    const entry = list.find((e) => e.messageId === dm.messageId);
    if (!entry) throw new Error(`message ${dm.messageId} not found in %DLQ%${run}-g-dlq`);
    if (entry.originalTopic !== dlqT) throw new Error(`DLQ original topic ${entry.originalTopic} != ${dlqT}`);
    log(`${el()} DLQ list ok: ${entry.messageId} from ${entry.originalTopic}`);
    const rr = await dlqReplay(`${run}-g-dlq`, { ids: [dm.messageId] });
    if (rr.replayed.length !== 1) throw new Error(`replay failed: ${JSON.stringify(rr)}`);
    const cc = consumer(`${run}-g-check`, dlqT);
    await cc.startup();
    const back = await cc.receive(16, 15_000);
    await cc.shutdown();
    const replayed = back.find((m) => m.properties.get('aip-dlq-replay-of') === dm.messageId);
    if (!replayed || replayed.body.toString() !== 'to the DLQ') throw new Error('replayed message not received on the original topic');
    log(`${el()} DLQ replay ok -> ${dlqT} as ${replayed.messageId}`);
  }
  await producer.shutdown();
  log(`${el()} smoke ok`);
}
