// The realtime connection to rtc-push (protocol v1, docs/realtime-protocol.md): connects with a
// short-lived token, says hello with the last push id it received, acks every push, drops
// duplicates by id, keeps the socket alive with app-level pings and reconnects with exponential
// backoff and jitter. Framework-free: it knows nothing of the DOM.
// Frame types come from @aip/contracts as types only: the page bundles none of the contracts' code.
import type { ErrorFrame, PushFrame, ServerFrame, WelcomeFrame } from '@aip/contracts';
import { statusOf, messageOf } from '../settings/http-error.ts';
import { backoffDelay, comparePushIds, type Backoff } from './backoff.ts';

/** REALTIME_PROTOCOL_VERSION of @aip/contracts. */
export const PROTOCOL_VERSION = 1;

/** The close codes of the protocol (CLOSE_CODES of @aip/contracts) that change what the client does next. */
export const CLOSE = Object.freeze({ protocolViolation: 4400, unauthorized: 4401, tooManyConnections: 4429 });

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline' | 'unauthorized' | 'failed';

export interface StateDetail {
  state: ConnectionState;
  attempt: number;
  retryInMs?: number;
  reason?: string;
  reconnects: number;
}

/** The frames of one chat, each carrying the `ref` the page gave it. */
export type ChatEvent = Extract<ServerFrame, { type: 'accepted' | 'delta' | 'sources' | 'done' }> | (ErrorFrame & { ref: string });

export interface KeyValueStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
}

/** What the client needs of a WebSocket (the browser's, or a fake in tests). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
}

export interface RealtimeEvents {
  state: StateDetail;
  welcome: WelcomeFrame;
  /** A push, once per id. */
  push: PushFrame;
  /** accepted/delta/sources/done/error frames that carry a `ref`. */
  chat: ChatEvent;
  /** Errors without a `ref`. */
  error: ErrorFrame;
  /** The server refused the token: get a new one before the next attempt. */
  unauthorized: undefined;
}

export interface RealtimeOptions {
  /** The WebSocket URL to use now (with a fresh or cached token). */
  socketUrl: () => Promise<string>;
  /** Where the last push id survives a reload. */
  store: KeyValueStore;
  /** Key of the last push id in `store` (per user). */
  storeKey: string;
  backoff?: Backoff;
  openSocket?: (url: string) => SocketLike;
  /** false when the browser knows it is offline (navigator.onLine). */
  online?: () => boolean;
}

const OPEN = 1;

export class RealtimeClient {
  state: ConnectionState = 'idle';
  private readonly listeners = new Map<keyof RealtimeEvents, Set<(detail: never) => void>>();
  private readonly socketUrl: () => Promise<string>;
  private readonly store: KeyValueStore;
  private readonly storeKey: string;
  private readonly backoff: Backoff;
  private readonly openSocket: (url: string) => SocketLike;
  private readonly online: () => boolean;
  private socket: SocketLike | undefined;
  /** Tries since the last welcome. */
  private attempt = 0;
  /** Successful connections after the first one. */
  private reconnects = 0;
  private connectedOnce = false;
  private stopped = true;
  private lastPushId: string | undefined;
  private pendingAcks: string[] = [];
  private heartbeatMs = 30_000;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private lastFrameAt = 0;

  constructor(options: RealtimeOptions) {
    this.socketUrl = options.socketUrl;
    this.store = options.store;
    this.storeKey = options.storeKey;
    this.backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    this.openSocket = options.openSocket ?? ((url) => new WebSocket(url));
    this.online = options.online ?? (() => typeof navigator === 'undefined' || navigator.onLine !== false);
    this.lastPushId = this.store.get(this.storeKey) ?? undefined;
  }

  on<K extends keyof RealtimeEvents>(type: K, listener: (detail: RealtimeEvents[K]) => void): () => void {
    const set = this.listeners.get(type) ?? new Set();
    this.listeners.set(type, set);
    set.add(listener as (detail: never) => void);
    return () => void set.delete(listener as (detail: never) => void);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  /** Closes the socket and stops reconnecting (logout, key change). */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.socket?.close(1000, 'client stopped');
    this.socket = undefined;
    this.setState('idle');
  }

  /** The browser says the network is gone: drop the socket now rather than wait for heartbeats. */
  networkLost(): void {
    if (this.stopped) return;
    this.clearTimers();
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'offline');
    this.setState('offline');
  }

  /** The network is back: reconnect at once, without waiting for the backoff. */
  networkBack(): void {
    if (this.stopped || this.state === 'open' || this.state === 'connecting') return;
    this.clearTimers();
    this.attempt = 0;
    void this.connect();
  }

  /** Sends a chat message; false when there is no open connection. */
  sendChat(chat: { ref: string; text: string; sessionId?: string; model?: string }): boolean {
    return this.send({ type: 'chat', ...chat });
  }

  private send(frame: object): boolean {
    if (!this.socket || this.socket.readyState !== OPEN || this.state !== 'open') return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.attempt += 1;
    this.setState(this.connectedOnce ? 'reconnecting' : 'connecting');
    let url: string;
    try {
      url = await this.socketUrl();
    } catch (error) {
      const status = statusOf(error);
      if (status === 401 || status === 403) return this.setState('unauthorized', messageOf(error));
      return this.scheduleReconnect(messageOf(error));
    }
    if (this.stopped) return;
    const socket = this.openSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.lastFrameAt = Date.now();
      socket.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, ...(this.lastPushId ? { lastPushId: this.lastPushId } : {}) }));
    };
    socket.onmessage = (message) => {
      if (socket !== this.socket) return;
      this.lastFrameAt = Date.now();
      let frame: unknown;
      try {
        frame = JSON.parse(String(message.data));
      } catch {
        return;
      }
      this.onFrame(frame as ServerFrame);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      this.clearTimers();
      if (this.stopped) return;
      if (event.code === CLOSE.unauthorized) {
        // The token expired or the key was revoked: a new token may fix the first, not the second.
        this.emit('unauthorized', undefined);
        if (this.attempt > 2) return this.setState('unauthorized', event.reason || 'the key was refused');
      }
      if (event.code === CLOSE.protocolViolation) return this.setState('failed', event.reason || 'protocol violation');
      this.scheduleReconnect(event.reason || `closed (${event.code})`);
    };
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame?.type) {
      case 'welcome':
        this.heartbeatMs = frame.heartbeatMs;
        if (this.connectedOnce) this.reconnects += 1;
        this.connectedOnce = true;
        this.attempt = 0;
        this.startHeartbeat();
        this.setState('open');
        return this.emit('welcome', frame);
      case 'push':
        return this.onPush(frame);
      case 'pong':
        return;
      case 'error':
        if (!frame.ref) return this.emit('error', frame);
        return this.emit('chat', { ...frame, ref: frame.ref });
      case 'accepted':
      case 'delta':
      case 'sources':
      case 'done':
        return this.emit('chat', frame);
      default:
        // Additive protocol changes bring new frame types: ignore what we do not know.
        return;
    }
  }

  private onPush(push: PushFrame): void {
    // Ack even a duplicate: the server re-sends until it hears an ack.
    this.queueAck(push.id);
    // Ids sort in delivery order and pushes arrive in that order, so anything at or before the
    // last id received has been shown already (a re-send, or a reconnect racing an ack).
    if (this.lastPushId !== undefined && comparePushIds(push.id, this.lastPushId) <= 0) return;
    this.lastPushId = push.id;
    this.store.set(this.storeKey, push.id);
    this.emit('push', push);
  }

  private queueAck(id: string): void {
    this.pendingAcks.push(id);
    // One ack frame per burst (a reconnect delivers the inbox at once).
    this.ackTimer ??= setTimeout(() => this.flushAcks(), 20);
  }

  private flushAcks(): void {
    this.ackTimer = undefined;
    while (this.pendingAcks.length > 0) {
      const ids = this.pendingAcks.slice(0, 500);
      if (!this.send({ type: 'ack', ids })) return; // resent by the server; acked by the next hello's lastPushId
      this.pendingAcks.splice(0, ids.length);
    }
  }

  private startHeartbeat(): void {
    clearInterval(this.pingTimer);
    const every = Math.max(1_000, Math.min(this.heartbeatMs, 30_000));
    this.pingTimer = setInterval(() => {
      // Two missed heartbeats (no frame at all, pongs included): the socket is dead even if the
      // browser has not noticed (a half-open TCP connection never closes by itself).
      if (Date.now() - this.lastFrameAt > 2 * every + 1_000) {
        const socket = this.socket;
        this.socket = undefined;
        socket?.close(4000, 'heartbeat missed');
        this.clearTimers();
        return this.scheduleReconnect('no answer to heartbeats');
      }
      this.send({ type: 'ping', t: Date.now() });
    }, every);
  }

  private scheduleReconnect(reason: string): void {
    if (this.stopped) return;
    if (!this.online()) return this.setState('offline', reason);
    // `attempt` counts the tries since the last welcome; the next one is attempt + 1.
    const retryInMs = backoffDelay(this.attempt + 1, this.backoff);
    this.setState(this.connectedOnce ? 'reconnecting' : 'connecting', reason, retryInMs);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), retryInMs);
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.ackTimer);
    this.retryTimer = this.pingTimer = this.ackTimer = undefined;
  }

  private setState(state: ConnectionState, reason?: string, retryInMs?: number): void {
    this.state = state;
    const detail: StateDetail = {
      state,
      attempt: retryInMs !== undefined ? this.attempt + 1 : this.attempt,
      reconnects: this.reconnects,
      ...(reason ? { reason } : {}),
      ...(retryInMs !== undefined ? { retryInMs } : {}),
    };
    this.emit('state', detail);
  }

  private emit<K extends keyof RealtimeEvents>(type: K, detail: RealtimeEvents[K]): void {
    for (const listener of this.listeners.get(type) ?? []) (listener as (detail: RealtimeEvents[K]) => void)(detail);
  }
}
