import { randomUUID } from 'node:crypto';
import { CLOSE_CODES, type PushFrame, type ServerFrame } from '@aip/contracts';
import type { StoredPush, UserRef } from './inbox.store.ts';
import { PendingPushes } from './pending.ts';
import { admitFrame } from './send-policy.ts';

/** What a connection writes to: a WebSocket or an SSE response. */
export interface FrameTransport {
  readonly kind: 'ws' | 'sse';
  /** Writes one frame (already serialised as `text`). */
  write(frame: ServerFrame, text: string): void;
  /** Bytes queued for the client and not yet handed to the kernel. */
  bufferedBytes(): number;
  close(code: number, reason: string): void;
}

export interface ConnectionHooks {
  onSlowConsumer(connection: Connection): void;
}

/**
 * One client connection of one user: where the delivery cursor stands, which pushes wait for an
 * ack, and a serial work queue so replay, live pushes and re-sends never interleave out of order.
 */
export class Connection {
  readonly id = randomUUID();
  /** The newest inbox id written to this connection. */
  cursor: string;
  readonly pending: PendingPushes;
  closed = false;
  private queue: Promise<void> = Promise.resolve();
  private pumpQueued = false;

  constructor(
    readonly user: UserRef,
    readonly transport: FrameTransport,
    options: { resendAfterMs: number; maxBufferedBytes: number; startAfter: string },
    private readonly hooks: ConnectionHooks,
  ) {
    this.pending = new PendingPushes(options.resendAfterMs);
    this.cursor = options.startAfter;
    this.maxBufferedBytes = options.maxBufferedBytes;
  }

  private readonly maxBufferedBytes: number;

  /** Sends a frame unless the connection's buffer is over its bound, in which case the connection is closed. */
  send(frame: ServerFrame): boolean {
    if (this.closed) return false;
    const text = JSON.stringify(frame);
    if (admitFrame(this.transport.bufferedBytes(), Buffer.byteLength(text), this.maxBufferedBytes) === 'close') {
      this.close(CLOSE_CODES.slowConsumer, 'slow consumer: send buffer full');
      this.hooks.onSlowConsumer(this);
      return false;
    }
    this.transport.write(frame, text);
    return true;
  }

  /** Writes a push; returns the number of earlier sends (0 = first delivery), or undefined when nothing was sent. */
  deliver(push: StoredPush, now: number): number | undefined {
    if (push.expiresAt && Date.parse(push.expiresAt) <= now) return undefined;
    const redelivery = this.pending.sent(push.id, now);
    const { id, seq, kind, text, time } = push;
    const frame: PushFrame = {
      type: 'push', id, seq, kind, text, time, redelivery,
      ...(push.intent !== undefined ? { intent: push.intent } : {}),
      ...(push.title !== undefined ? { title: push.title } : {}),
      ...(push.link !== undefined ? { link: push.link } : {}),
      ...(push.slots !== undefined && Object.keys(push.slots).length > 0 ? { slots: push.slots } : {}),
      ...(push.sessionId !== undefined ? { sessionId: push.sessionId } : {}),
      ...(push.expiresAt !== undefined ? { expiresAt: push.expiresAt } : {}),
    };
    return this.send(frame) ? redelivery : undefined;
  }

  /** Runs `task` after everything queued before it on this connection. */
  enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(() => (this.closed ? undefined : task()));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Queues a pump unless one is already waiting to start (bursts of doorbells coalesce). */
  enqueuePump(pump: () => Promise<void>): Promise<void> {
    if (this.pumpQueued) return this.queue;
    this.pumpQueued = true;
    return this.enqueue(async () => {
      this.pumpQueued = false;
      await pump();
    });
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.close(code, reason);
  }
}
