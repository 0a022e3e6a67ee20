import { jest } from '@jest/globals';
import type { MessageView } from 'rocketmq-client-nodejs';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { FakeConsumer, message } from '../../test/fake-consumer.ts';
import { MessagingMetrics } from '../metrics/messaging.metrics.ts';
import { SlotPool } from './slot-pool.ts';
import { PoisonMessageError, Subscription, type Dispatch, type SubscriptionOptions } from './subscription.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

// The engine's timers (receive long polls, backoffs, lease renewals, drain deadlines) run on Jest's
// fake clock: the tests move it on themselves, so they neither sleep nor depend on the machine's speed.
const STEP_MS = 5;

/** Lets everything already due run (promise callbacks included) without moving the clock. */
async function flush(): Promise<void> {
  await jest.advanceTimersByTimeAsync(0);
}

/** Moves the fake clock on in small steps until `condition` holds; fails past `limitMs` of simulated time. */
async function until(condition: () => boolean, limitMs = 5_000): Promise<void> {
  for (let elapsed = 0; !condition(); elapsed += STEP_MS) {
    if (elapsed >= limitMs) throw new Error(`condition not met within ${limitMs} ms of simulated time`);
    await jest.advanceTimersByTimeAsync(STEP_MS);
  }
}

/** Awaits `promise` while moving the fake clock on (a stop may wait out a long poll or a drain). */
async function settled<T>(promise: Promise<T>, limitMs = 5_000): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => (done = true));
  await until(() => done, limitMs);
  return tracked;
}

function subscription(consumer: FakeConsumer, dispatch: Dispatch, overrides: Partial<SubscriptionOptions> = {}) {
  return new Subscription({
    group: 'g', topic: 't', fifo: false, concurrency: 4, leaseMs: 30_000, maxAttempts: 3,
    backoff: { initialMs: 1_000, multiplier: 2, maxMs: 60_000 }, pollWaitMs: 20, maxBatch: 32, drainTimeoutMs: 1_000,
    connect: async () => consumer, dispatch, logger: pino({ level: 'silent' }), metrics: MessagingMetrics.for(new Registry()),
    ...overrides,
  });
}

describe('Subscription', () => {
  let running: Subscription | undefined;
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }));
  afterEach(async () => {
    if (running) await settled(running.stop());
    running = undefined;
    jest.useRealTimers();
  });

  it('acks a message only after its handler resolved', async () => {
    const consumer = new FakeConsumer();
    const gate = deferred();
    running = subscription(consumer, () => gate.promise);
    const m = message();
    consumer.push(m);
    running.start();
    await until(() => running!.inFlight === 1);
    expect(consumer.calls).toEqual([]);
    gate.resolve();
    await until(() => consumer.calls.length === 1);
    expect(consumer.calls).toEqual([{ op: 'ack', id: m.messageId }]);
  });

  it('never asks the broker for more messages than it has free slots', async () => {
    const consumer = new FakeConsumer();
    const gates: ReturnType<typeof deferred>[] = [];
    running = subscription(consumer, () => { const gate = deferred(); gates.push(gate); return gate.promise; }, { concurrency: 3 });
    consumer.push(message(), message(), message(), message(), message());
    running.start();
    await until(() => gates.length === 3);
    const asked = consumer.receiveSizes.length;
    await jest.advanceTimersByTimeAsync(100);
    expect(consumer.receiveSizes.length).toBe(asked); // all slots busy: no receive at all
    expect(consumer.receiveSizes[0]).toBe(3);
    gates[0]!.resolve();
    await jest.advanceTimersByTimeAsync(50);
    expect(consumer.receiveSizes.length).toBe(asked); // one free slot of three: not worth a receive yet
    gates[1]!.resolve();
    await until(() => gates.length === 5);
    expect(consumer.receiveSizes.at(-1)).toBe(2);
    expect(Math.max(...consumer.receiveSizes)).toBe(3);
    gates.forEach((gate) => gate.resolve());
  });

  it('shares one slot pool between subscriptions: never more handlers than slots; what arrives beyond them waits in hand, not back at the broker', async () => {
    const shared = new FakeConsumer();
    const lane = new FakeConsumer();
    const slots = new SlotPool(3);
    let running = 0;
    let most = 0;
    const gates: ReturnType<typeof deferred>[] = [];
    const handled: string[] = [];
    const handler = async (m: MessageView) => {
      most = Math.max(most, ++running);
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      handled.push(m.messageId);
      running--;
    };
    shared.push(message(), message(), message());
    lane.push(message(), message(), message());
    const a = subscription(shared, handler, { concurrency: 3, slots });
    const b = subscription(lane, handler, { group: 'g-lane-00', concurrency: 3, slots });
    a.start();
    b.start();
    try {
      await until(() => gates.length === 3);
      await jest.advanceTimersByTimeAsync(100);
      expect(most).toBe(3);
      // Both polled at once and got 6 for 3 slots: the other 3 are held (leases renewed), not released,
      // so no delivery attempt is spent on them.
      expect(a.inFlight + b.inFlight).toBe(6);
      expect([...shared.calls, ...lane.calls].filter((call) => call.op === 'change')).toEqual([]);
      // Let every handler finish, each freed slot starting one of the messages held in hand.
      await until(() => {
        gates.splice(0).forEach((gate) => gate.resolve());
        return handled.length === 6;
      });
      expect(most).toBe(3);
      expect([...shared.calls, ...lane.calls].filter((call) => call.op === 'ack')).toHaveLength(6);
      // A slot freed by either subscription lets the other poll again.
      lane.push(message());
      await until(() => gates.length >= 1);
      gates.forEach((gate) => gate.resolve());
    } finally {
      gates.forEach((gate) => gate.resolve());
      await settled(Promise.all([a.stop(), b.stop()]));
    }
  });

  it('on stop, sends a message still waiting for a slot back to its group unstarted', async () => {
    const slots = new SlotPool(1);
    const gate = deferred();
    const started: string[] = [];
    const handler = async (m: MessageView) => { started.push(m.messageId); await gate.promise; };
    const [one, other] = [new FakeConsumer(), new FakeConsumer()];
    const [first, second] = [message(), message()];
    one.push(first);
    other.push(second);
    const a = subscription(one, handler, { concurrency: 1, slots });
    const b = subscription(other, handler, { group: 'g-lane-00', concurrency: 1, slots });
    a.start();
    b.start();
    try {
      // Both polled while the slot was free: one message runs, the other waits in hand.
      await until(() => started.length === 1 && a.inFlight + b.inFlight === 2);
      const [waiting, waitingConsumer] = started[0] === first.messageId ? [b, other] : [a, one];
      await settled(waiting.stop());
      expect(waitingConsumer.calls).toEqual([{ op: 'change', id: (waitingConsumer === other ? second : first).messageId, ms: 1_000 }]);
      expect(started).toHaveLength(1);
    } finally {
      gate.resolve();
      await settled(Promise.all([a.stop(), b.stop()]));
    }
  });

  it('keeps polling while a handler runs: a message arriving later starts at once on a free slot', async () => {
    const consumer = new FakeConsumer();
    const gate = deferred();
    const started: string[] = [];
    running = subscription(consumer, async (m) => { started.push(m.messageId); await gate.promise; }, { concurrency: 4, maxBatch: 1 });
    const [first, second] = [message(), message()];
    consumer.push(first);
    running.start();
    await until(() => started.length === 1);
    consumer.push(second);
    await flush(); // no time passes: it starts on the receive already waiting, not on a later poll
    expect(started).toEqual([first.messageId, second.messageId]);
    gate.resolve();
  });

  it('retries a failed handler later by extending invisibility with exponential backoff', async () => {
    const consumer = new FakeConsumer();
    running = subscription(consumer, async () => { throw new Error('boom'); });
    consumer.push(message({ deliveryAttempt: 1 }), message({ deliveryAttempt: 2 }));
    running.start();
    await until(() => consumer.calls.length === 2);
    expect(consumer.calls.map((c) => [c.op, c.ms]).sort()).toEqual([['change', 1_000], ['change', 2_000]]);
  });

  it('dead-letters after the last attempt, and poison at once', async () => {
    const consumer = new FakeConsumer();
    running = subscription(consumer, async (m) => { throw m.tag === 'poison' ? new PoisonMessageError('bad schema') : new Error('boom'); });
    const last = message({ deliveryAttempt: 3 });
    const poison = message({ tag: 'poison', deliveryAttempt: 1 });
    consumer.push(last, poison);
    running.start();
    await until(() => consumer.calls.length === 2);
    expect(consumer.calls).toEqual(expect.arrayContaining([{ op: 'dlq', id: last.messageId }, { op: 'dlq', id: poison.messageId }]));
  });

  it('handles one FIFO message group strictly in order, groups in parallel, and holds back the rest of a group after a failure', async () => {
    const consumer = new FakeConsumer();
    const order: string[] = [];
    let active = 0;
    let maxActive = 0;
    running = subscription(consumer, async (m) => {
      active++; maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 10));
      order.push(m.messageId);
      active--;
      if (m.tag === 'fail') throw new Error('boom');
    }, { fifo: true, concurrency: 10 });
    const a = [message({ messageGroup: 'A' }), message({ messageGroup: 'A' }), message({ messageGroup: 'A' })];
    const b = [message({ messageGroup: 'B', tag: 'fail' }), message({ messageGroup: 'B' })];
    consumer.push(a[0]!, b[0]!, a[1]!, b[1]!, a[2]!);
    running.start();
    await until(() => consumer.calls.length === 5);
    expect(order.filter((id) => a.some((m) => m.messageId === id))).toEqual(a.map((m) => m.messageId));
    expect(order).not.toContain(b[1]!.messageId); // never overtakes the failed B1
    expect(consumer.calls.filter((c) => c.id === b[1]!.messageId)).toEqual([{ op: 'change', id: b[1]!.messageId, ms: 1_000 }]);
    expect(maxActive).toBe(2);
  });

  // Regression (fuzz suite): the messages behind a dead-lettered one were put back with a retry
  // backoff, so poison in a FIFO group held up the valid messages behind it and spent their attempts.
  it('goes on with a FIFO group at once behind a message it dead-lettered', async () => {
    const consumer = new FakeConsumer();
    const handled: string[] = [];
    running = subscription(consumer, async (m) => {
      if (m.tag === 'poison') throw new PoisonMessageError('bad schema');
      handled.push(m.messageId);
    }, { fifo: true });
    const group = [message({ messageGroup: 'U', tag: 'poison' }), message({ messageGroup: 'U', tag: 'poison' }), message({ messageGroup: 'U' })];
    consumer.push(...group);
    running.start();
    await until(() => consumer.calls.length === 3);
    expect(consumer.calls).toEqual([{ op: 'dlq', id: group[0]!.messageId }, { op: 'dlq', id: group[1]!.messageId }, { op: 'ack', id: group[2]!.messageId }]);
    expect(handled).toEqual([group[2]!.messageId]);
  });

  it('renews the lease of a message while its handler runs', async () => {
    const consumer = new FakeConsumer();
    const gate = deferred();
    const renewed: number[] = [];
    running = subscription(consumer, (_m, lease) => { lease.onRenew(() => void renewed.push(Date.now())); return gate.promise; }, { leaseMs: 300 });
    const m = message();
    consumer.push(m);
    running.start();
    await until(() => renewed.length >= 2);
    gate.resolve();
    await until(() => consumer.calls.some((c) => c.op === 'ack'));
    const changes = consumer.calls.filter((c) => c.op === 'change');
    expect(changes.length).toBeGreaterThanOrEqual(2);
    expect(changes.every((c) => c.ms === 300)).toBe(true);
    expect(consumer.calls.at(-1)).toEqual({ op: 'ack', id: m.messageId });
  });

  it('on stop, lets a running handler finish and acks it, and receives nothing more', async () => {
    const consumer = new FakeConsumer();
    const gate = deferred();
    running = subscription(consumer, () => gate.promise, { concurrency: 1 });
    const m = message();
    consumer.push(m);
    running.start();
    await until(() => running!.inFlight === 1);
    const stopped = running.stop();
    const late = message();
    consumer.push(late);
    await jest.advanceTimersByTimeAsync(50);
    expect(consumer.calls).toEqual([]); // neither acked nor released while its handler runs
    gate.resolve();
    await settled(stopped);
    expect(consumer.calls).toEqual([{ op: 'ack', id: m.messageId }]);
    expect(consumer.queue).toEqual([late]); // still at the broker for another consumer
    expect(running.currentState).toBe('stopped');
  });

  it('on stop, releases a message whose handler outlives the drain timeout instead of acking it', async () => {
    const consumer = new FakeConsumer();
    running = subscription(consumer, () => new Promise(() => undefined), { drainTimeoutMs: 50 });
    const m = message();
    consumer.push(m);
    running.start();
    await until(() => running!.inFlight === 1);
    await settled(running.stop());
    expect(consumer.calls).toEqual([{ op: 'change', id: m.messageId, ms: 1_000 }]);
  });

  it('keeps trying to connect while the broker is unreachable, and reports it', async () => {
    const consumer = new FakeConsumer();
    const states: string[] = [];
    let attempts = 0;
    running = subscription(consumer, async () => undefined, {
      connect: async () => { if (++attempts < 3) throw new Error('UNAVAILABLE'); return consumer; },
      onStateChange: (state) => states.push(state),
    });
    running.start();
    await until(() => states.includes('up'), 10_000);
    expect(states).toEqual(['down', 'up']);
    expect(attempts).toBe(3);
  });
});
