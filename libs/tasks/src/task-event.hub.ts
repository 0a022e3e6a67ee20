import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { taskEventSchema } from './task.schema.ts';
import { isStreamId } from './stream-id.ts';
import type { StoredEvent } from './task.store.ts';

interface Subscription {
  key: string;
  cursor: string;
  push: (events: StoredEvent[]) => void;
}

/**
 * Follows many task event streams over ONE blocking Redis connection: a single `XREAD BLOCK`
 * covers every followed stream, so a thousand waiting clients cost one connection, not a
 * thousand (a blocking read on a shared connection would stall every other command behind it).
 * A new subscription wakes the pending read through a private wake-up stream.
 */
export class TaskEventHub {
  private readonly subscriptions = new Set<Subscription>();
  private readonly wakeKey: string;
  private running: Promise<void> | undefined;
  private wakeCursor = '0-0';
  private closed = false;

  constructor(
    private readonly reader: Redis,
    private readonly writer: Redis,
    private readonly prefix = '',
    /** Told about a stream entry that is not a valid task event (it is skipped, the stream goes on). */
    private readonly onInvalidEntry: (key: string, id: string, error: unknown) => void = () => undefined,
  ) {
    this.wakeKey = `${prefix}hub:${randomUUID()}:wake`;
  }

  /**
   * Events of a task after `afterId`, in order, as they arrive. End the iteration to unsubscribe.
   * An `afterId` that is not a stream id is refused here: in the read shared by every follower,
   * Redis would refuse it and stall them all.
   */
  async *follow(taskId: string, afterId = '0', signal?: AbortSignal): AsyncGenerator<StoredEvent> {
    if (afterId !== '0' && !isStreamId(afterId)) throw new RangeError(`not a stream id: ${JSON.stringify(afterId.slice(0, 64))}`);
    const buffered: StoredEvent[] = [];
    let notify: (() => void) | undefined;
    const subscription: Subscription = {
      key: `${this.prefix}task:{${taskId}}:events`,
      cursor: afterId,
      push: (events) => {
        buffered.push(...events);
        notify?.();
      },
    };
    const onAbort = () => notify?.();
    signal?.addEventListener('abort', onAbort);
    this.subscriptions.add(subscription);
    this.ensureRunning();
    try {
      // Inside the try: if Redis refuses the wake-up, the subscription must not outlive the caller.
      await this.writer.xadd(this.wakeKey, 'MAXLEN', '10', '*', 'w', '1');
      while (!signal?.aborted && !this.closed) {
        if (buffered.length === 0) await new Promise<void>((resolve) => (notify = resolve));
        notify = undefined;
        while (buffered.length > 0) yield buffered.shift()!;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.subscriptions.delete(subscription);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const subscription of this.subscriptions) subscription.push([]);
    await this.writer.xadd(this.wakeKey, 'MAXLEN', '10', '*', 'w', '1').catch(() => undefined);
    await this.running;
    await this.writer.del(this.wakeKey).catch(() => undefined);
  }

  private ensureRunning() {
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
      // A subscription that arrived while the loop was ending must not wait for a loop that never comes.
      if (this.subscriptions.size > 0 && !this.closed) this.ensureRunning();
    });
  }

  // One bad entry must not end the loop: it would reject unhandled and stall every follower.
  private decode(key: string, id: string, fields: string[]): StoredEvent[] {
    try {
      return [{ id, event: taskEventSchema.parse(JSON.parse(fields[1] ?? 'null')) }];
    } catch (error) {
      this.onInvalidEntry(key, id, error);
      return [];
    }
  }

  private async loop(): Promise<void> {
    // A concrete cursor, not '$': a wake-up written just before the XREAD is issued is still seen.
    let wakeCursor = this.wakeCursor;
    while (!this.closed && this.subscriptions.size > 0) {
      const subscriptions = [...this.subscriptions];
      const keys = [this.wakeKey, ...subscriptions.map((s) => s.key)];
      const cursors = [wakeCursor, ...subscriptions.map((s) => s.cursor)];
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await this.reader.xread('COUNT', 500, 'BLOCK', 5_000, 'STREAMS', ...keys, ...cursors)) as typeof reply;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      for (const [key, entries] of reply ?? []) {
        const last = entries.at(-1)?.[0];
        if (key === this.wakeKey) {
          if (last) wakeCursor = this.wakeCursor = last;
          continue;
        }
        for (const subscription of subscriptions) {
          if (subscription.key !== key || !last) continue;
          subscription.cursor = last;
          subscription.push(entries.flatMap(([id, fields]) => this.decode(key, id, fields)));
        }
      }
    }
  }
}
