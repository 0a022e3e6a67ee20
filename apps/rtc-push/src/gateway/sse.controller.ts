import { Body, Controller, Get, HttpCode, HttpException, Inject, Post, Req, Res } from '@nestjs/common';
import { ackFrame, chatFrame, pushId, REALTIME_LIMITS, REALTIME_PROTOCOL_VERSION, type ServerFrame } from '@aip/contracts';
import { ENV } from '@aip/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AuthError, Authenticator, type Identity } from '../auth/authenticator.ts';
import { ChatRelay } from '../chat/chat.relay.ts';
import type { Connection } from '../delivery/connection.ts';
import { DeliveryHub, TooManyConnectionsError } from '../delivery/delivery.hub.ts';
import { RtcMetrics } from '../delivery/rtc.metrics.ts';
import type { RtcEnv } from '../rtc.config.ts';
import { SseTransport } from './sse.transport.ts';

const httpError = (status: number, code: string, message: string) => new HttpException({ error: { code, message } }, status);

const ackBody = z.union([ackFrame.omit({ type: true }), z.object({ upTo: pushId })]);

/** Server-sent events for clients that cannot use WebSockets: the push stream, acks and chat. */
@Controller('v1')
export class SseController {
  constructor(
    @Inject(Authenticator) private readonly auth: Authenticator,
    @Inject(DeliveryHub) private readonly hub: DeliveryHub,
    @Inject(ChatRelay) private readonly chat: ChatRelay,
    @Inject(RtcMetrics) private readonly metrics: RtcMetrics,
    @Inject(ENV) private readonly env: RtcEnv,
  ) {}

  @Get('sse')
  async stream(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const identity = await this.identify(request);
    const query = request.query as Record<string, string | undefined>;
    const resumeFrom = (request.headers['last-event-id'] as string | undefined) ?? query['lastEventId'];
    if (resumeFrom !== undefined && !pushId.safeParse(resumeFrom).success) throw httpError(400, 'invalid_frame', 'Last-Event-ID must be a push id as received');
    const transport = new SseTransport(reply.raw);
    // Listen for the client leaving before anything is awaited: a close during attach must still detach.
    const state: { connection?: Connection; gone: boolean } = { gone: false };
    reply.raw.on('close', () => {
      state.gone = true;
      if (state.connection) this.hub.detach(state.connection);
    });
    let attached;
    try {
      attached = await this.hub.attach({ tenantId: identity.tenantId, userId: identity.userId }, transport, resumeFrom);
    } catch (error) {
      if (error instanceof TooManyConnectionsError) throw httpError(429, 'too_many_connections', error.message);
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
    if (!parsed.success) throw httpError(400, 'invalid_frame', `give {"ids": [push ids]} (1-${REALTIME_LIMITS.maxAckIds}) or {"upTo": push id}`);
    const user = { tenantId: identity.tenantId, userId: identity.userId };
    if ('ids' in parsed.data) await this.hub.ack(user, parsed.data.ids);
    else await this.hub.ackUpTo(user, parsed.data.upTo);
  }

  @Post('chat')
  async chatStream(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    const identity = await this.identify(request);
    const parsed = chatFrame.safeParse({ ...(typeof body === 'object' && body !== null ? body : {}), type: 'chat' });
    if (!parsed.success) throw httpError(400, 'invalid_frame', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    reply.hijack();
    const abort = new AbortController();
    reply.raw.on('close', () => abort.abort());
    reply.raw.on('error', () => abort.abort());
    const send = (frame: ServerFrame) => (reply.raw.writable ? (reply.raw.write(`event: ${frame.type}\ndata: ${JSON.stringify(frame)}\n\n`), true) : false);
    // Hijacked: Nest no longer answers for us, so whatever happens the response must end here.
    try {
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
      const outcome = await this.chat.run(identity, parsed.data, send, abort.signal);
      this.metrics.chats.inc({ outcome });
    } catch {
      this.metrics.chats.inc({ outcome: 'error' });
      send({ type: 'error', code: 'unavailable', ref: parsed.data.ref, message: 'the chat failed; retry later' });
    } finally {
      if (!reply.raw.writableEnded) reply.raw.end();
    }
  }

  private async identify(request: FastifyRequest): Promise<Identity> {
    const query = request.query as Record<string, string | undefined>;
    try {
      return await this.auth.authenticate({ authorization: request.headers.authorization, token: query['token'], user: query['user'] });
    } catch (error) {
      if (error instanceof AuthError) throw httpError(error.code === 'unavailable' ? 503 : 401, error.code, error.message);
      throw error;
    }
  }
}
