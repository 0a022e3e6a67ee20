// The realtime connection to rtc-push (protocol v1, docs/realtime-protocol.md): connects with a
// short-lived token, says hello with the last push id it received, acks every push, drops
// duplicates by id, keeps the socket alive with app-level pings and reconnects with exponential
// backoff and jitter. Framework-free: it knows nothing of the DOM.

export const PROTOCOL_VERSION = 1;

/** Close codes of the protocol that change what the client does next. */
export const CLOSE = Object.freeze({ protocolViolation: 4400, unauthorized: 4401, tooManyConnections: 4429 });

/**
 * Push ids are Redis stream ids (`<ms>-<n>`) and sort in delivery order. Compares two of them.
 * @param {string} a @param {string} b @returns {number}
 */
export function comparePushIds(a, b) {
  const [am, an] = a.split('-').map(BigInt);
  const [bm, bn] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  if (an !== bn) return an < bn ? -1 : 1;
  return 0;
}

/**
 * Delay before reconnect attempt `attempt` (1-based): exponential, capped, and jittered between
 * half and all of it ("equal jitter"), so a restarted server is not hit by every client at the
 * same instant while a single client still backs off steadily.
 * @param {number} attempt @param {{ initialMs: number, maxMs: number }} backoff @param {() => number} random
 */
export function backoffDelay(attempt, backoff, random = Math.random) {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * @typedef {'idle'|'connecting'|'open'|'reconnecting'|'offline'|'unauthorized'|'failed'} ConnectionState
 * @typedef {{ state: ConnectionState, attempt: number, retryInMs?: number, reason?: string, reconnects: number }} StateDetail
 * @typedef {{ get(key: string): string | null, set(key: string, value: string): void }} KeyValueStore
 */

/**
 * Events: `state` (detail: StateDetail), `welcome` (the welcome frame), `push` (a push frame, once
 * per id), `chat` (accepted/delta/sources/done/error frames that carry a `ref`), `error` (errors
 * without a `ref`).
 */
export class RealtimeClient extends EventTarget {
  /**
   * @param {object} options
   * @param {() => Promise<string>} options.socketUrl the WebSocket URL to use now (with a fresh or cached token)
   * @param {KeyValueStore} options.store where the last push id survives a reload
   * @param {string} options.storeKey key of the last push id in `store` (per user)
   * @param {{ initialMs: number, maxMs: number }} [options.backoff]
   * @param {typeof WebSocket} [options.WebSocketImpl]
   */
  constructor({ socketUrl, store, storeKey, backoff = { initialMs: 500, maxMs: 30_000 }, WebSocketImpl = WebSocket }) {
    super();
    this.socketUrl = socketUrl;
    this.store = store;
    this.storeKey = storeKey;
    this.backoff = backoff;
    this.WebSocketImpl = WebSocketImpl;
    /** @type {WebSocket | undefined} */
    this.socket = undefined;
    /** @type {ConnectionState} */
    this.state = 'idle';
    this.attempt = 0;
    /** Successful connections after the first one. */
    this.reconnects = 0;
    this.connectedOnce = false;
    this.stopped = true;
    this.lastPushId = store.get(storeKey) ?? undefined;
    /** @type {string[]} */
    this.pendingAcks = [];
    this.heartbeatMs = 30_000;
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.retryTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */ this.pingTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.ackTimer = undefined;
    this.lastFrameAt = 0;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  /** Closes the socket and stops reconnecting (logout, key change). */
  stop() {
    this.stopped = true;
    this.clearTimers();
    this.socket?.close(1000, 'client stopped');
    this.socket = undefined;
    this.setState('idle');
  }

  /** The browser says the network is gone: drop the socket now rather than wait for heartbeats. */
  networkLost() {
    if (this.stopped) return;
    this.clearTimers();
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'offline');
    this.setState('offline');
  }

  /** The network is back: reconnect at once, without waiting for the backoff. */
  networkBack() {
    if (this.stopped || this.state === 'open' || this.state === 'connecting') return;
    this.clearTimers();
    this.attempt = 0;
    void this.connect();
  }

  /**
   * Sends a chat message; false when there is no open connection.
   * @param {{ ref: string, text: string, sessionId?: string, model?: string }} chat
   */
  sendChat(chat) {
    return this.send({ type: 'chat', ...chat });
  }

  /** @param {object} frame */
  send(frame) {
    if (!this.socket || this.socket.readyState !== 1 || this.state !== 'open') return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  async connect() {
    if (this.stopped) return;
    this.attempt += 1;
    this.setState(this.connectedOnce ? 'reconnecting' : 'connecting');
    let url;
    try {
      url = await this.socketUrl();
    } catch (error) {
      const status = /** @type {{ status?: number }} */ (error).status;
      if (status === 401 || status === 403) return this.setState('unauthorized', String(/** @type {Error} */ (error).message));
      return this.scheduleReconnect(String(/** @type {Error} */ (error).message));
    }
    if (this.stopped) return;
    const socket = new this.WebSocketImpl(url);
    this.socket = socket;
    socket.onopen = () => {
      this.lastFrameAt = Date.now();
      socket.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, ...(this.lastPushId ? { lastPushId: this.lastPushId } : {}) }));
    };
    socket.onmessage = (message) => {
      if (socket !== this.socket) return;
      this.lastFrameAt = Date.now();
      let frame;
      try {
        frame = JSON.parse(String(message.data));
      } catch {
        return;
      }
      this.onFrame(frame);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      this.clearTimers();
      if (this.stopped) return;
      if (event.code === CLOSE.unauthorized) {
        // The token expired or the key was revoked: a new token may fix the first, not the second.
        this.dispatchEvent(new CustomEvent('unauthorized'));
        if (this.attempt > 2) return this.setState('unauthorized', event.reason || 'the key was refused');
      }
      if (event.code === CLOSE.protocolViolation) return this.setState('failed', event.reason || 'protocol violation');
      this.scheduleReconnect(event.reason || `closed (${event.code})`);
    };
  }

  /** @param {any} frame */
  onFrame(frame) {
    switch (frame?.type) {
      case 'welcome':
        this.heartbeatMs = frame.heartbeatMs;
        if (this.connectedOnce) this.reconnects += 1;
        this.connectedOnce = true;
        this.attempt = 0;
        this.startHeartbeat();
        this.setState('open');
        this.dispatchEvent(new CustomEvent('welcome', { detail: frame }));
        return;
      case 'push':
        return this.onPush(frame);
      case 'pong':
        return;
      case 'error':
        if (!frame.ref) return void this.dispatchEvent(new CustomEvent('error', { detail: frame }));
        return void this.dispatchEvent(new CustomEvent('chat', { detail: frame }));
      case 'accepted':
      case 'delta':
      case 'sources':
      case 'done':
        return void this.dispatchEvent(new CustomEvent('chat', { detail: frame }));
      default:
        // Additive protocol changes bring new frame types: ignore what we do not know.
        return;
    }
  }

  /** @param {{ id: string }} push */
  onPush(push) {
    // Ack even a duplicate: the server re-sends until it hears an ack.
    this.queueAck(push.id);
    // Ids sort in delivery order and pushes arrive in that order, so anything at or before the
    // last id received has been shown already (a re-send, or a reconnect racing an ack).
    if (this.lastPushId !== undefined && comparePushIds(push.id, this.lastPushId) <= 0) return;
    this.lastPushId = push.id;
    this.store.set(this.storeKey, push.id);
    this.dispatchEvent(new CustomEvent('push', { detail: push }));
  }

  /** @param {string} id */
  queueAck(id) {
    this.pendingAcks.push(id);
    // One ack frame per burst (a reconnect delivers the inbox at once).
    this.ackTimer ??= setTimeout(() => this.flushAcks(), 20);
  }

  flushAcks() {
    this.ackTimer = undefined;
    while (this.pendingAcks.length > 0) {
      const ids = this.pendingAcks.slice(0, 500);
      if (!this.send({ type: 'ack', ids })) return; // resent by the server; acked by the next hello's lastPushId
      this.pendingAcks.splice(0, ids.length);
    }
  }

  startHeartbeat() {
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

  /** @param {string} reason */
  scheduleReconnect(reason) {
    if (this.stopped) return;
    if (typeof navigator !== 'undefined' && navigator.onLine === false) return this.setState('offline', reason);
    // `attempt` counts the tries since the last welcome; the next one is attempt + 1.
    const retryInMs = backoffDelay(this.attempt + 1, this.backoff);
    this.setState(this.connectedOnce ? 'reconnecting' : 'connecting', reason, retryInMs);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), retryInMs);
  }

  clearTimers() {
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.ackTimer);
    this.retryTimer = this.pingTimer = this.ackTimer = undefined;
  }

  /** @param {ConnectionState} state @param {string} [reason] @param {number} [retryInMs] */
  setState(state, reason, retryInMs) {
    this.state = state;
    /** @type {StateDetail} */
    const detail = { state, attempt: retryInMs !== undefined ? this.attempt + 1 : this.attempt, reconnects: this.reconnects, ...(reason ? { reason } : {}), ...(retryInMs !== undefined ? { retryInMs } : {}) };
    this.dispatchEvent(new CustomEvent('state', { detail }));
  }
}
