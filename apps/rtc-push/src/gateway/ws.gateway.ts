import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CHAT_ERROR_CODES } from '@aip/chat-policy';
import { CLOSE_CODES, REALTIME_LIMITS, REALTIME_PROTOCOL_VERSION, type ClientFrame, type ServerFrame } from '@aip/contracts';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { AuthError, type Authenticator, type Identity, type Invalidation } from '../auth/authenticator.ts';
import { invalidationFrame, type KeyGate, type Lease } from '../auth/key-gate.ts';
import type { ChatRelay } from '../chat/chat.relay.ts';
import type { Connection, FrameTransport } from '../delivery/connection.ts';
import { TooManyConnectionsError, type DeliveryHub } from '../delivery/delivery.hub.ts';
import type { RtcMetrics } from '../delivery/rtc.metrics.ts';
import { parseClientFrame } from '../protocol/frame-parser.ts';
import { FrameQueue } from './frame-queue.ts';

export interface WsGatewayOptions {
  path: string;
  maxFrameBytes: number;
  helloTimeoutMs: number;
  heartbeatMs: number;
  resendAfterMs: number;
  maxChatsPerConnection: number;
}

const MAX_BAD_FRAMES = 10;
/** Inbound frames waiting (or running) per socket; past it the socket is closed with 1008. */
export const MAX_QUEUED_FRAMES = 64;
/** RFC 6455 1008 "policy violation" (not in CLOSE_CODES of @aip/contracts yet). */
const POLICY_VIOLATION = 1008;
/** The subprotocol a client names to carry a realtime token out of the URL: `new WebSocket(url, ['aip.v1', 'aip.token.' + token])`. */
export const WS_PROTOCOL = 'aip.v1';
export const WS_TOKEN_PROTOCOL_PREFIX = 'aip.token.';

/** The realtime token of the `aip.token.<token>` subprotocol, if the client offered one. */
export function tokenFromProtocols(header: string | undefined): string | undefined {
  const offered = (header ?? '').split(',').map((protocol) => protocol.trim());
  return offered.find((protocol) => protocol.startsWith(WS_TOKEN_PROTOCOL_PREFIX))?.slice(WS_TOKEN_PROTOCOL_PREFIX.length) || undefined;
}

class WsTransport implements FrameTransport {
  readonly kind = 'ws' as const;
  constructor(private readonly socket: WebSocket) {}
  write(_frame: ServerFrame, text: string) {
    this.socket.send(text);
  }
  bufferedBytes() {
    return this.socket.bufferedAmount;
  }
  close(code: number, reason: string) {
    this.socket.close(code, reason);
    // A slow consumer may never read the close frame: do not wait for it forever.
    setTimeout(() => this.socket.terminate(), 5_000).unref();
  }
}

/**
 * The WebSocket endpoint (`ws` on the Fastify server's upgrade event). One socket = auth, then a
 * `hello`, then frames; everything a socket does goes through the DeliveryHub or the ChatRelay.
 */
export class WsGateway {
  readonly server: WebSocketServer;
  private readonly alive = new WeakMap<WebSocket, boolean>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly auth: Authenticator,
    private readonly hub: DeliveryHub,
    private readonly chat: ChatRelay,
    private readonly gate: KeyGate,
    private readonly options: WsGatewayOptions,
    private readonly metrics: RtcMetrics,
    private readonly logger: Logger,
  ) {
    this.server = new WebSocketServer({
      noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false, clientTracking: true,
      // Answer with `aip.v1`, never with the token protocol: the token is not echoed in the response.
      handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    });
  }

  /** Handles the HTTP server's `upgrade` event; anything but our path is refused. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== this.options.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.onSocket(ws, request, url));
  }

  start(): void {
    this.heartbeat = setInterval(() => {
      for (const socket of this.server.clients) {
        if (this.alive.get(socket) === false) {
          socket.terminate();
          continue;
        }
        this.alive.set(socket, false);
        socket.ping();
      }
    }, this.options.heartbeatMs).unref();
  }

  /** Shutdown: close code 1001 on every socket (the hub closes its connections first). */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const socket of this.server.clients) socket.close(CLOSE_CODES.goingAway, 'server shutting down');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onSocket(ws: WebSocket, request: IncomingMessage, url: URL): void {
    const send = (frame: ServerFrame) => (connection ? connection.send(frame) : (ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(frame)), true));
    const closeWith = (code: number, reason: string) => {
      this.metrics.closes.inc({ code: String(code) });
      ws.close(code, reason);
    };
    let identity: Identity | undefined;
    let connection: Connection | undefined;
    let lease: Lease | undefined;
    let badFrames = 0;
    const chats = new Map<string, AbortController>();
    this.alive.set(ws, true);
    ws.on('pong', () => this.alive.set(ws, true));

    const helloTimer = setTimeout(() => {
      send({ type: 'error', code: 'hello_required', message: `send a hello frame within ${this.options.helloTimeoutMs} ms` });
      closeWith(CLOSE_CODES.helloTimeout, 'no hello');
    }, this.options.helloTimeoutMs);

    // Revalidation found the token expired or the key revoked: the client must get a new token (4401).
    const invalidate = (reason: Invalidation) => {
      send(invalidationFrame(reason));
      closeWith(CLOSE_CODES.unauthorized, reason === 'expired' ? 'token expired' : 'key revoked');
      setTimeout(() => ws.terminate(), 5_000).unref();
    };
    const token = tokenFromProtocols(request.headers['sec-websocket-protocol']) ?? url.searchParams.get('token') ?? undefined;
    const authenticated = this.auth
      .authenticate({ authorization: request.headers.authorization, token, user: url.searchParams.get('user') ?? undefined })
      .then((who) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        try {
          lease = this.gate.connect(who, invalidate);
        } catch (error) {
          if (!(error instanceof TooManyConnectionsError)) throw error;
          clearTimeout(helloTimer);
          send({ type: 'error', code: 'too_many_connections', message: error.message });
          closeWith(CLOSE_CODES.tooManyConnections, 'too many connections');
          return;
        }
        identity = who;
      })
      .catch((error: unknown) => {
        clearTimeout(helloTimer);
        const unavailable = error instanceof AuthError && error.code === 'unavailable';
        send({ type: 'error', code: unavailable ? CHAT_ERROR_CODES.unavailable : 'unauthorized', message: error instanceof AuthError ? error.message : 'authentication failed' });
        closeWith(unavailable ? CLOSE_CODES.internalError : CLOSE_CODES.unauthorized, unavailable ? 'auth unavailable' : 'unauthorized');
      });

    const onFrame = (frame: ClientFrame) => onFrameImpl.call(this, frame);
    // Frames are handled one at a time, in arrival order, after authentication.
    const frames = new FrameQueue(authenticated, MAX_QUEUED_FRAMES);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const handle = async () => {
        if (!identity || ws.readyState !== WebSocket.OPEN) return;
        if (isBinary) return closeWith(CLOSE_CODES.unsupportedData, 'binary frames are not supported');
        const parsed = parseClientFrame(String(data));
        if (!parsed.ok) {
          this.metrics.framesRejected.inc({ code: parsed.error.code });
          send(parsed.error);
          if (++badFrames >= MAX_BAD_FRAMES) closeWith(CLOSE_CODES.protocolViolation, 'too many invalid frames');
          return;
        }
        badFrames = 0;
        await onFrame(parsed.frame);
      };
      const queued = frames.push(() =>
        handle().catch((error: unknown) => {
          this.logger.warn({ err: String(error) }, 'frame handling failed');
          send({ type: 'error', code: 'internal', message: 'the server could not handle this frame; retry' });
        }),
      );
      if (!queued) closeWith(POLICY_VIOLATION, `more than ${MAX_QUEUED_FRAMES} frames waiting; wait for answers before sending more`);
    });

    async function onFrameImpl(this: WsGateway, frame: ClientFrame): Promise<void> {
      const who = identity!;
      if (frame.type === 'ping') {
        send({ type: 'pong', ...(frame.t !== undefined ? { t: frame.t } : {}) });
        return;
      }
      if (frame.type === 'hello' || frame.type === 'resume') {
        if (connection) {
          send({ type: 'error', code: 'invalid_frame', message: 'hello was already received on this connection' });
          return;
        }
        clearTimeout(helloTimer);
        try {
          const attached = await this.hub.attach({ tenantId: who.tenantId, userId: who.userId }, new WsTransport(ws), frame.lastPushId);
          connection = attached.connection;
          if (ws.readyState !== WebSocket.OPEN) return this.hub.detach(connection);
          send({
            type: 'welcome', v: REALTIME_PROTOCOL_VERSION, connectionId: connection.id, userId: who.userId, pending: attached.pending,
            resendAfterMs: this.options.resendAfterMs, heartbeatMs: this.options.heartbeatMs,
            limits: { maxFrameBytes: this.options.maxFrameBytes, maxAckIds: REALTIME_LIMITS.maxAckIds, maxChatChars: REALTIME_LIMITS.maxChatChars },
          });
          await this.hub.pump(connection);
        } catch (error) {
          if (!(error instanceof TooManyConnectionsError)) throw error;
          send({ type: 'error', code: 'too_many_connections', message: error.message });
          closeWith(CLOSE_CODES.tooManyConnections, 'too many connections');
        }
        return;
      }
      if (!connection) {
        send({ type: 'error', code: 'hello_required', message: 'send a hello frame first', ...(frame.type === 'chat' ? { ref: frame.ref } : {}) });
        return;
      }
      if (frame.type === 'ack') {
        await this.hub.ack(connection.user, frame.ids);
        return;
      }
      // chat
      if (chats.size >= this.options.maxChatsPerConnection || chats.has(frame.ref)) {
        send({ type: 'error', code: 'too_many_chats', ref: frame.ref, message: chats.has(frame.ref) ? `a chat with ref "${frame.ref}" is still running` : `at most ${this.options.maxChatsPerConnection} chats at once per connection` });
        return;
      }
      const slot = this.gate.chat(who);
      if ('refused' in slot) {
        send({ type: 'error', code: 'too_many_chats', ref: frame.ref, message: slot.refused });
        return;
      }
      const abort = new AbortController();
      chats.set(frame.ref, abort);
      // Not awaited: a chat streams for a while and other frames (acks, pings) keep flowing.
      void this.chat
        .run(who, frame, send, abort.signal)
        .then(
          (outcome) => this.metrics.chats.inc({ outcome }),
          (error: unknown) => {
            this.metrics.chats.inc({ outcome: 'error' });
            this.logger.warn({ err: String(error), ref: frame.ref }, 'chat relay failed');
            send({ type: 'error', code: CHAT_ERROR_CODES.unavailable, ref: frame.ref, message: 'the chat failed; retry later' });
          },
        )
        .finally(() => {
          chats.delete(frame.ref);
          slot.release();
        });
    }

    ws.on('close', () => {
      clearTimeout(helloTimer);
      lease?.release();
      for (const abort of chats.values()) abort.abort();
      if (connection) this.hub.detach(connection);
    });
    ws.on('error', (error) => this.logger.debug({ err: String(error) }, 'socket error'));
  }
}
