import type { MessageView } from 'rocketmq-client-nodejs';
import type { Logger } from 'pino';
import { errorMessage } from '../common/errors.ts';
import { backoffDelay, type RetryBackoff } from '../common/rocketmq.options.ts';
import type { MessagingMetrics } from '../metrics/messaging.metrics.ts';
import type { ConsumerPort } from './consumer.port.ts';
import { SlotPool } from './slot-pool.ts';

/** Thrown by a dispatcher for a message that can never be handled: it goes to dead letter at once. */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
}

/** What a handler may do with the message it holds. */
export interface Lease {
  /** Delivery attempt of this message, 1 for the first. */
  readonly attempt: number;
  /** Called by the lease keeper each time the lease was renewed (e.g. to refresh related locks). */
  onRenew(listener: () => Promise<void> | void): void;
}

export type Dispatch = (message: MessageView, lease: Lease) => Promise<void>;

export interface SubscriptionOptions {
  group: string;
  topic: string;
  fifo: boolean;
  /** Messages held at once; the consumer never asks the broker for more than the free slots. */
  concurrency: number;
  /** Slots shared with other subscriptions of the same handler; default: `concurrency` of its own. */
  slots?: SlotPool;
  /** Invisible duration of a received message; renewed while its handler runs. */
  leaseMs: number;
  maxAttempts: number;
  backoff: RetryBackoff;
  /** How long one receive call waits on the broker for messages (long polling). */
  pollWaitMs: number;
  /** Largest batch of one receive call. */
  maxBatch: number;
  /** On shutdown: how long in-flight handlers may finish before their messages are released. */
  drainTimeoutMs: number;
  connect: () => Promise<ConsumerPort>;
  dispatch: Dispatch;
  logger: Logger;
  metrics: MessagingMetrics;
  onStateChange?: (state: SubscriptionState, error?: string) => void;
}

export type SubscriptionState = 'connecting' | 'up' | 'down' | 'stopped';

/** Delay after which a released message becomes visible to the group again. */
const RELEASE_MS = 1_000;
// Capped at a second: a failed receive against a broker that is down costs next to nothing, and the
// cap is how long consumption may lag behind a broker that is back (it was 10 s).
export const RECONNECT_BACKOFF: RetryBackoff = { initialMs: 250, multiplier: 2, maxMs: 1_000 };

interface Held {
  readonly message: MessageView;
  receivedAt: number;
  renewedAt: number;
  settled: boolean;
  /** Holds a slot of the pool (given back when settled). */
  slotted: boolean;
  /** Its handler has started. */
  started: boolean;
  /** Serialises RPCs on the message: a renewal changes the receipt handle the ack needs. */
  chain: Promise<unknown>;
  readonly renewListeners: (() => Promise<void> | void)[];
}

/**
 * The consumption engine for one (group, topic): pull-style receive sized by free slots, a lease
 * keeper for every held message, ack after success, retry with backoff by changing the invisible
 * duration, dead letter after the last attempt or at once for poison, FIFO order per message
 * group, and a drain on stop. Framework-free: the NestJS server wires it to handlers.
 */
export class Subscription {
  private consumer: ConsumerPort | undefined;
  private readonly held = new Set<Held>();
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private stopped: Promise<void> | undefined;
  /** Held messages waiting for a slot of the shared pool. */
  private waiting = 0;
  private upSince = 0;
  private lastReceived = Date.now();
  private readonly slots: SlotPool;
  private leaseTimer: NodeJS.Timeout | undefined;
  private state: SubscriptionState = 'connecting';
  private readonly labels: { group: string; topic: string };

  constructor(private readonly options: SubscriptionOptions) {
    this.labels = { group: options.group, topic: options.topic };
    this.slots = options.slots ?? new SlotPool(options.concurrency);
  }

  get inFlight(): number {
    return this.held.size;
  }

  /**
   * Since when the subscription has been receiving with nothing delivered and nothing in hand, or
   * undefined while it is not (not connected, or holding messages): how long its group has been
   * quiet, as far as anyone can tell.
   */
  get quietSince(): number | undefined {
    if (this.state !== 'up' || this.held.size > 0) return undefined;
    return Math.max(this.lastReceived, this.upSince);
  }

  get currentState(): SubscriptionState {
    return this.state;
  }

  start(): void {
    this.loop ??= this.run();
    this.leaseTimer = setInterval(() => this.renewLeases(), Math.max(100, Math.floor(this.options.leaseMs / 3)));
    this.leaseTimer.unref();
  }

  /** Stops receiving, lets in-flight handlers finish (up to drainTimeoutMs), releases the rest, closes. */
  stop(): Promise<void> {
    this.stopped ??= this.shutDown();
    return this.stopped;
  }

  private async shutDown(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    // Messages still waiting for a slot go back to the group at once; running handlers may finish.
    await Promise.all([...this.held].filter((held) => !held.started).map((held) => this.settle(held, 'release')));
    const deadline = Date.now() + this.options.drainTimeoutMs;
    while (this.held.size > 0 && Date.now() < deadline) await this.waitForSlot(Math.max(1, deadline - Date.now()));
    if (this.held.size > 0) {
      this.options.logger.warn({ ...this.labels, count: this.held.size }, 'drain timeout: releasing unfinished messages to the group');
      await Promise.all([...this.held].map((held) => this.settle(held, 'release')));
    }
    clearInterval(this.leaseTimer);
    await this.consumer?.shutdown().catch((error: unknown) => this.options.logger.warn({ ...this.labels, err: errorMessage(error) }, 'consumer shutdown failed'));
    this.consumer = undefined;
    this.setState('stopped');
  }

  private setState(state: SubscriptionState, error?: string) {
    if (state === this.state) return;
    if (state === 'up') this.upSince = Date.now();
    this.state = state;
    this.options.onStateChange?.(state, error);
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    let failures = 0;
    while (!this.stopping) {
      try {
        this.consumer ??= await this.options.connect();
        const free = this.slots.free;
        // Ask for a worthwhile batch: while messages are in flight, wait until half the slots
        // (or a full batch) are free instead of polling the broker for one message at a time.
        const worthwhile = Math.min(this.options.maxBatch, Math.ceil(this.slots.size / 2));
        if (this.waiting > 0 || free <= 0 || (free < worthwhile && this.slots.inUse > 0)) {
          await this.waitForSlot();
          continue;
        }
        const batch = await this.consumer.receive(Math.min(free, this.options.maxBatch), this.options.leaseMs);
        if (failures > 0) logger.info({ ...this.labels }, 'broker reachable again: consuming');
        failures = 0;
        this.setState('up');
        this.accept(batch);
      } catch (error) {
        if (this.stopping) break;
        failures += 1;
        const delay = backoffDelay(RECONNECT_BACKOFF, failures);
        this.setState('down', errorMessage(error));
        // Once, then every 30th failure (about every half minute): an outage is not a log flood.
        if (failures === 1 || failures % 30 === 0) logger.warn({ ...this.labels, err: errorMessage(error), retryInMs: delay, failures }, 'cannot receive from the broker');
        if (failures >= 3 && this.consumer) {
          // A consumer whose receives keep failing may hold a dead channel: start a fresh one.
          const stale = this.consumer;
          this.consumer = undefined;
          void stale.shutdown().catch(() => undefined);
        }
        await sleep(delay);
      }
    }
  }

  private accept(batch: MessageView[]) {
    const now = Date.now();
    if (batch.length > 0) this.lastReceived = now;
    const items = batch.map((message) => {
      const held: Held = { message, receivedAt: now, renewedAt: now, settled: false, slotted: false, started: false, chain: Promise.resolve(), renewListeners: [] };
      this.held.add(held);
      this.options.metrics.received.inc({ ...this.labels, tag: message.tag ?? '' });
      return held;
    });
    this.options.metrics.inFlight.set(this.labels, this.held.size);
    this.options.logger.debug({ ...this.labels, batch: batch.map((m) => `${m.messageGroup ?? ''}:${m.messageId}`) }, 'received');
    if (this.stopping) {
      for (const held of items) void this.settle(held, 'release');
      return;
    }
    if (!this.options.fifo) {
      for (const held of items) void this.process(held);
      return;
    }
    // FIFO: one message group is handled strictly in order; different groups in parallel.
    const byGroup = new Map<string, Held[]>();
    for (const held of items) {
      const key = held.message.messageGroup ?? '';
      byGroup.set(key, [...(byGroup.get(key) ?? []), held]);
    }
    for (const sequence of byGroup.values()) void this.processInOrder(sequence);
  }

  private async processInOrder(sequence: Held[]) {
    for (let i = 0; i < sequence.length; i++) {
      // A dead-lettered message is settled as much as an acked one: the group goes on behind it.
      const ok = await this.process(sequence[i]!);
      if (!ok || this.stopping) {
        // Later messages of the group must not overtake the failed (or unstarted) one.
        await Promise.all(sequence.slice(i + 1).map((held) => this.settle(held, ok ? 'release' : 'retry')));
        return;
      }
    }
  }

  /** Runs the handler and settles the message; true when it is done with (acknowledged or dead-lettered). */
  private async process(held: Held): Promise<boolean> {
    if (!(await this.takeSlot(held))) return false;
    held.started = true;
    const { message } = held;
    const attempt = message.deliveryAttempt ?? 1;
    const labels = { ...this.labels, tag: message.tag ?? '' };
    const started = process.hrtime.bigint();
    const lease: Lease = { attempt, onRenew: (listener) => void held.renewListeners.push(listener) };
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      await this.options.dispatch(message, lease);
      this.options.metrics.handlerSeconds.observe({ ...labels, outcome: 'success' }, seconds());
      return await this.settle(held, 'ack');
    } catch (error) {
      const poison = error instanceof PoisonMessageError;
      this.options.metrics.handlerSeconds.observe({ ...labels, outcome: poison ? 'poison' : 'error' }, seconds());
      const log = { ...labels, messageId: message.messageId, attempt, maxAttempts: this.options.maxAttempts, err: errorMessage(error) };
      if (poison) {
        this.options.logger.error(log, 'message can never be handled: dead-lettering it now');
        return await this.settle(held, 'dead-letter', 'schema');
      }
      if (attempt >= this.options.maxAttempts) {
        this.options.logger.error(log, 'handler failed on the last attempt: dead-lettering the message');
        return await this.settle(held, 'dead-letter', 'attempts');
      }
      this.options.logger.warn(log, 'handler failed: the message will be retried');
      await this.settle(held, 'retry');
      return false;
    }
  }

  /** Tells the broker what became of a message; true when it is done with (acked or dead-lettered). */
  private async settle(held: Held, outcome: 'ack' | 'retry' | 'release' | 'dead-letter', reason = ''): Promise<boolean> {
    if (held.settled) return false;
    held.settled = true;
    const { message } = held;
    const consumer = this.consumer;
    const labels = { ...this.labels, tag: message.tag ?? '' };
    const run = async () => {
      if (!consumer) return false;
      switch (outcome) {
        case 'ack':
          await consumer.ack(message);
          this.options.metrics.acked.inc(labels);
          return true;
        case 'retry':
          await consumer.changeInvisibleDuration(message, backoffDelay(this.options.backoff, message.deliveryAttempt ?? 1));
          this.options.metrics.retried.inc(labels);
          return false;
        case 'release':
          await consumer.changeInvisibleDuration(message, RELEASE_MS);
          return false;
        case 'dead-letter':
          await consumer.forwardToDeadLetter(message, this.options.maxAttempts);
          this.options.metrics.deadLettered.inc({ ...labels, reason });
          return true;
      }
    };
    const result = held.chain.then(run);
    held.chain = result.catch(() => undefined);
    try {
      return await result;
    } catch (error) {
      // The lease will expire and the broker redelivers: nothing is lost, the handler may run again.
      this.options.logger.warn({ ...labels, messageId: message.messageId, outcome, err: errorMessage(error) }, 'could not settle the message with the broker');
      return false;
    } finally {
      this.held.delete(held);
      this.options.metrics.inFlight.set(this.labels, this.held.size);
      if (held.slotted) this.slots.give();
      else this.wake?.(); // a drain on stop waits for held messages to go
    }
  }

  /**
   * Waits for a slot of the pool; false when the message was settled meanwhile (released on stop)
   * or the subscription is stopping, in which case it goes back to the group unstarted.
   */
  private async takeSlot(held: Held): Promise<boolean> {
    // Synchronously when a slot is free: the receive loop, running right after, must not see a
    // message "waiting" that is about to start (it would stop polling until a slot is given back).
    if (!this.slots.tryAcquire()) {
      this.waiting += 1;
      try {
        await this.slots.acquire();
      } finally {
        this.waiting -= 1;
      }
    }
    if (held.settled) {
      this.slots.give();
      return false;
    }
    held.slotted = true;
    if (this.stopping) {
      await this.settle(held, 'release');
      return false;
    }
    return true;
  }

  /** Extends the invisible duration of every held message well before it runs out. */
  private renewLeases() {
    const consumer = this.consumer;
    if (!consumer) return;
    const due = Date.now() - this.options.leaseMs / 3;
    for (const held of this.held) {
      if (held.settled || held.renewedAt > due) continue;
      held.renewedAt = Date.now();
      held.chain = held.chain
        .then(async () => {
          if (held.settled) return;
          await consumer.changeInvisibleDuration(held.message, this.options.leaseMs);
          await Promise.all(held.renewListeners.map((listener) => listener()));
        })
        .catch((error: unknown) =>
          this.options.logger.warn({ ...this.labels, messageId: held.message.messageId, err: errorMessage(error) }, 'could not renew the lease of a message'),
        );
    }
  }

  /** Until a slot of the pool is given back (by any subscription sharing it), a stop, or the timeout. */
  private waitForSlot(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      const unsubscribe = this.slots.onFree(done);
      this.wake = done;
    });
  }
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
