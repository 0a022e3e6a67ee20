import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { CHAT_ERROR_CODES } from '@aip/chat-policy';
import { chatFrame, CLOSE_CODES, REALTIME_LIMITS, REALTIME_PROTOCOL_VERSION, type ServerFrame } from '@aip/contracts';
import { ApiError, ENV, httpErrors } from '@aip/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, Authenticator, type Identity, type Invalidation } from '../auth/authenticator.ts';
import { invalidationFrame, KeyGate, type Lease } from '../auth/key-gate.ts';
import { ChatRelay } from '../chat/chat.relay.ts';
import type { Connection } from '../delivery/connection.ts';
import { DeliveryHub, TooManyConnectionsError } from '../delivery/delivery.hub.ts';
import { RtcMetrics } from '../delivery/rtc.metrics.ts';
import { PUSH_ID_MESSAGE } from '../protocol/push-id.ts';
import type { RtcEnv } from '../rtc.config.ts';
import { ackBody, streamId } from './sse-request.schema.ts';
import { SseTransport } from './sse.transport.ts';

/** Every refusal in the platform's error shape (`ApiError`, answered by `ApiErrorFilter` with the request id). */
const invalid = (message: string, param: string | null = null) => httpErrors.invalid(message, param, 'invalid_frame');


/** A query parameter given once, as text; a repeated one (`?token=a&token=b`) is a client error, not a 500. */
function queryParameter(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.[name];
  if (value === undefined || typeof value === 'string') return value;
  throw invalid(`give the "${name}" query parameter once`, name);
}

/** Server-sent events for clients that cannot use WebSockets: the push stream, acks and chat. */
@Controller('v1')
export class SseController {
  constructor(
    @Inject(Authenticator) private readonly auth: Authenticator,
    @Inject(DeliveryHub) private readonly hub: DeliveryHub,
    @Inject(ChatRelay) private readonly chat: ChatRelay,
    @Inject(RtcMetrics) private readonly metrics: RtcMetrics,
    @Inject(KeyGate) private readonly gate: KeyGate,
    @Inject(ENV) private readonly env: RtcEnv,
  ) {}

  @Get('sse')
  async stream(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const identity = await this.identify(request);
    // EventSource sends no header before the first event id; an empty one means the same.
    const header = request.headers['last-event-id'];
    const resumeFrom = (Array.isArray(header) ? header.join(',') : header) || queryParameter(request, 'lastEventId') || undefined;
    if (resumeFrom !== undefined && !streamId.safeParse(resumeFrom).success) throw invalid(`Last-Event-ID (or lastEventId) must be ${PUSH_ID_MESSAGE}`, 'Last-Event-ID');
    const transport = new SseTransport(reply.raw);
    const state: { connection?: Connection; gone: boolean } = { gone: false };
    // The token expired or the key was revoked: tell the client, then end the stream (EventSource
    // reconnects by itself; with a new token it is welcome again).
    const invalidate = (reason: Invalidation) => {
      state.connection?.send(invalidationFrame(reason));
      state.connection?.close(CLOSE_CODES.unauthorized, reason);
      if (!state.connection) transport.close();
    };
    let lease: Lease;
    try {
      lease = this.gate.connect(identity, invalidate);
    } catch (error) {
      if (error instanceof TooManyConnectionsError) throw new ApiError(429, error.message, 'rate_limit_error', 'too_many_connections');
      throw error;
    }
    // Listen for the client leaving before anything is awaited: a close during attach must still detach.
    reply.raw.on('close', () => {
      state.gone = true;
      lease.release();
      if (state.connection) this.hub.detach(state.connection);
    });
    let attached;
    try {
      attached = await this.hub.attach({ tenantId: identity.tenantId, userId: identity.userId }, transport, resumeFrom);
    } catch (error) {
      if (error instanceof TooManyConnectionsError) throw new ApiError(429, error.message, 'rate_limit_error', 'too_many_connections');
      throw error;
    }
    const connection = (state.connection = attached.connection);
    if (state.gone || reply.raw.destroyed) {
      this.hub.detach(connection);
      return;
    }
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    connection.send({
      type: 'welcome', v: REALTIME_PROTOCOL_VERSION, connectionId: connection.id, userId: identity.userId, pending: attached.pending,
      resendAfterMs: this.env.RESEND_AFTER_MS, heartbeatMs: this.env.HEARTBEAT_MS,
      limits: { maxFrameBytes: this.env.MAX_FRAME_BYTES, maxAckIds: REALTIME_LIMITS.maxAckIds, maxChatChars: REALTIME_LIMITS.maxChatChars },
    });
    transport.startKeepAlive(this.env.HEARTBEAT_MS);
    await this.hub.pump(connection);
  }

  @Post('ack')
  @HttpCode(204)
  async ack(@Req() request: FastifyRequest, @Body() body: unknown): Promise<void> {
    const identity = await this.identify(request);
    const parsed = ackBody.safeParse(body);
    if (!parsed.success) throw invalid(`give {"ids": [push ids]} (1-${REALTIME_LIMITS.maxAckIds}) or {"upTo": push id}; a push id is ${PUSH_ID_MESSAGE}`);
    const user = { tenantId: identity.tenantId, userId: identity.userId };
    if ('ids' in parsed.data) await this.hub.ack(user, parsed.data.ids);
    else await this.hub.ackUpTo(user, parsed.data.upTo);
  }

  @Post('chat')
  async chatStream(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    const identity = await this.identify(request);
    const parsed = chatFrame.safeParse({ ...(typeof body === 'object' && body !== null ? body : {}), type: 'chat' });
    if (!parsed.success) throw invalid(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), parsed.error.issues[0]?.path.join('.') || null);
    const abort = new AbortController();
    const send = (frame: ServerFrame) => (reply.raw.writable ? (reply.raw.write(`event: ${frame.type}\ndata: ${JSON.stringify(frame)}\n\n`), true) : false);
    // The same caps as chats on the socket (per user, per key); an expired token or a revoked key stops the chat.
    const slot = this.gate.chat(identity, (reason) => {
      send(invalidationFrame(reason, parsed.data.ref));
      abort.abort();
    });
    if ('refused' in slot) throw new ApiError(429, slot.refused, 'rate_limit_error', 'too_many_chats');
    reply.hijack();
    reply.raw.on('close', () => abort.abort());
    reply.raw.on('error', () => abort.abort());
    // Hijacked: Nest no longer answers for us, so whatever happens the response must end here.
    try {
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
      const outcome = await this.chat.run(identity, parsed.data, send, abort.signal);
      this.metrics.chats.inc({ outcome });
    } catch {
      this.metrics.chats.inc({ outcome: 'error' });
      send({ type: 'error', code: CHAT_ERROR_CODES.unavailable, ref: parsed.data.ref, message: 'the chat failed; retry later' });
    } finally {
      slot.release();
      if (!reply.raw.writableEnded) reply.raw.end();
    }
  }

  private async identify(request: FastifyRequest): Promise<Identity> {
    const credentials = { authorization: request.headers.authorization, token: queryParameter(request, 'token'), user: queryParameter(request, 'user') };
    try {
      return await this.auth.authenticate(credentials);
    } catch (error) {
      if (error instanceof AuthError) {
        if (error.code === 'unavailable') throw new ApiError(503, error.message, 'service_unavailable', CHAT_ERROR_CODES.unavailable);
        throw new ApiError(401, error.message, 'authentication_error', 'unauthorized');
      }
      throw error;
    }
  }
}
