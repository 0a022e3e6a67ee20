import type { Logger } from 'pino';
import { Connection, type FrameTransport } from './connection.ts';
import { compareIds, type InboxStore, type StoredPush, type UserRef } from './inbox.store.ts';
import type { PresenceStore } from './presence.store.ts';
import type { RtcMetrics } from './rtc.metrics.ts';

export interface DeliveryHubOptions {
  instanceId: string;
  resendAfterMs: number;
  maxBufferedBytes: number;
  maxConnectionsPerUser: number;
  presenceTtlMs: number;
  sweepIntervalMs: number;
}

const userKey = (user: UserRef) => `${user.tenantId}\u0000${user.userId}`;
const PAGE = 200;

export class TooManyConnectionsError extends Error {
  override readonly name = 'TooManyConnectionsError';
}

/**
 * The connections this instance holds and everything that moves pushes onto them: replay on
 * connect, live delivery on a doorbell, re-sends of unacked pushes, presence upkeep. The inbox
 * in Redis is the source of truth; a connection only remembers how far it has read.
 */
export class DeliveryHub {
  private readonly users = new Map<string, Set<Connection>>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly inbox: InboxStore,
    private readonly presence: PresenceStore,
    private readonly options: DeliveryHubOptions,
    private readonly metrics: RtcMetrics,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const tick = Math.max(50, Math.min(1_000, Math.floor(this.options.resendAfterMs / 4)));
    this.timers.push(setInterval(() => this.resendDue(), tick).unref());
    this.timers.push(setInterval(() => void this.refreshPresence(), Math.floor(this.options.presenceTtlMs / 3)).unref());
    if (this.options.sweepIntervalMs > 0) this.timers.push(setInterval(() => this.sweep(), this.options.sweepIntervalMs).unref());
  }

  get connectionCount(): number {
    let count = 0;
    for (const set of this.users.values()) count += set.size;
    return count;
  }

  /**
   * Registers a connection after its hello. `lastPushId` acks everything up to it. Returns the
   * connection and the number of pushes waiting; call `pump` after sending the welcome.
   */
  async attach(user: UserRef, transport: FrameTransport, lastPushId?: string): Promise<{ connection: Connection; pending: number }> {
    const key = userKey(user);
    const existing = this.users.get(key);
    if (existing && existing.size >= this.options.maxConnectionsPerUser) throw new TooManyConnectionsError(`at most ${this.options.maxConnectionsPerUser} connections per user`);
    if (lastPushId) this.metrics.pushesAcked.inc(await this.inbox.ackUpTo(user, lastPushId));
    const connection = new Connection(user, transport, { resendAfterMs: this.options.resendAfterMs, maxBufferedBytes: this.options.maxBufferedBytes, startAfter: '0-0' }, {
      onSlowConsumer: () => this.metrics.bufferCloses.inc(),
    });
    const set = this.users.get(key) ?? new Set<Connection>();
    set.add(connection);
    this.users.set(key, set);
    this.metrics.connections.inc({ transport: transport.kind });
    this.metrics.connectionsOpened.inc({ transport: transport.kind });
    try {
      // Presence before the first read: a push appended after the read is then sure to ring this instance.
      await this.presence.mark([user], this.options.instanceId);
      return { connection, pending: await this.inbox.size(user) };
    } catch (error) {
      // The slot was taken above (so concurrent attaches respect the limit): give it back.
      this.detach(connection);
      throw error;
    }
  }

  detach(connection: Connection): void {
    const key = userKey(connection.user);
    const set = this.users.get(key);
    if (!set?.delete(connection)) return;
    connection.closed = true;
    this.metrics.connections.dec({ transport: connection.transport.kind });
    if (set.size === 0) {
      this.users.delete(key);
      this.presence.remove(connection.user, this.options.instanceId).catch((error: unknown) => this.logger.warn({ err: String(error) }, 'could not clear presence'));
    }
  }

  /** A doorbell: the user's inbox has something new. */
  notify(user: UserRef): void {
    for (const connection of this.users.get(userKey(user)) ?? []) void this.pump(connection);
  }

  /** Writes every inbox entry after the connection's cursor, in order. */
  pump(connection: Connection): Promise<void> {
    return connection.enqueuePump(async () => {
      for (;;) {
        const pushes = await this.inbox.after(connection.user, connection.cursor, PAGE);
        for (const push of pushes) {
          if (connection.closed) return;
          if (connection.deliver(push, Date.now()) === 0) this.metrics.pushesDelivered.inc();
          connection.cursor = push.id;
        }
        if (pushes.length < PAGE) return;
      }
    }).catch((error: unknown) => this.logger.warn({ err: String(error), connection: connection.id }, 'push delivery failed; the sweep or the next push retries'));
  }

  async ack(user: UserRef, ids: readonly string[]): Promise<number> {
    const removed = await this.inbox.ack(user, ids);
    this.metrics.pushesAcked.inc(removed);
    for (const connection of this.users.get(userKey(user)) ?? []) connection.pending.acked(ids);
    return removed;
  }

  /** Cumulative ack (SSE `Last-Event-ID` of a running stream is not a thing; this serves POST /v1/ack with upTo). */
  async ackUpTo(user: UserRef, id: string): Promise<number> {
    const removed = await this.inbox.ackUpTo(user, id);
    this.metrics.pushesAcked.inc(removed);
    for (const connection of this.users.get(userKey(user)) ?? []) connection.pending.acked(connection.pending.ids().filter((pending) => compareIds(pending, id) <= 0));
    return removed;
  }

  /** Re-sends pushes that were not acked within `resendAfterMs` and are still in the inbox. */
  private resendDue(): void {
    const now = Date.now();
    for (const set of this.users.values()) {
      for (const connection of set) {
        if (connection.pending.due(now).length === 0) continue;
        void connection
          .enqueue(async () => {
            // Read only the due pushes, not the whole inbox: one that is gone was acked elsewhere, trimmed or expired.
            const due = connection.pending.due(Date.now());
            const waiting = await this.inbox.get(connection.user, due);
            const present = new Set(waiting.map((push) => push.id));
            connection.pending.acked(due.filter((id) => !present.has(id)));
            const now = Date.now();
            connection.pending.acked(waiting.filter((push) => push.expiresAt !== undefined && Date.parse(push.expiresAt) <= now).map((push) => push.id));
            for (const push of waiting) if ((connection.deliver(push, Date.now()) ?? 0) > 0) this.metrics.pushesResent.inc();
          })
          .catch((error: unknown) => this.logger.warn({ err: String(error) }, 'resend failed; retried at the next tick'));
      }
    }
  }

  /** Safety net for a doorbell lost while the pub/sub connection was reconnecting. */
  private sweep(): void {
    for (const set of this.users.values()) for (const connection of set) void this.pump(connection);
  }

  private async refreshPresence(): Promise<void> {
    const users = [...this.users.values()].map((set) => set.values().next().value!.user);
    for (let i = 0; i < users.length; i += 1_000) {
      await this.presence.mark(users.slice(i, i + 1_000), this.options.instanceId).catch((error: unknown) => this.logger.warn({ err: String(error) }, 'presence refresh failed'));
    }
  }

  /** Shutdown: closes every connection (1001 going away) and clears this instance's presence. */
  async close(code: number, reason: string): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    const connections = [...this.users.values()].flatMap((set) => [...set]);
    for (const connection of connections) {
      connection.close(code, reason);
      this.detach(connection);
    }
    await Promise.allSettled(connections.map((connection) => this.presence.remove(connection.user, this.options.instanceId)));
  }

  /** Pushes waiting for a user (tests, diagnostics). */
  waiting(user: UserRef): Promise<StoredPush[]> {
    return this.inbox.pending(user);
  }
}
