import { z } from 'zod';

/**
 * The realtime frame protocol (version 1) spoken over `rtc-push`'s WebSocket (`/v1/ws`) and, in
 * part, its SSE stream (`/v1/sse`). Every frame is one JSON object with a `type`. The prose
 * version, with URLs, auth, close codes and limits, is docs/realtime-protocol.md.
 */
export const REALTIME_PROTOCOL_VERSION = 1;

/** Limits the server enforces (documented; the server may be configured lower, never higher). */
export const REALTIME_LIMITS = {
  /** Largest inbound WebSocket frame; a larger one closes the socket with 1009. */
  maxFrameBytes: 65_536,
  /** Push ids in one `ack` frame. */
  maxAckIds: 500,
  /** Characters of a chat message's text. */
  maxChatChars: 32_000,
  /** Messages of one chat frame. */
  maxChatMessages: 64,
  /** Length of client references (`ref`) and ids. */
  maxIdLength: 128,
} as const;

const ref = z.string().min(1).max(REALTIME_LIMITS.maxIdLength);
/** Push ids are opaque strings that sort in delivery order (today: Redis stream ids `<ms>-<n>`). */
export const pushId = z.string().regex(/^\d{1,20}-\d{1,20}$/, 'a push id as received in a push frame');

// ---------------------------------------------------------------- client → server

/** First frame on a WebSocket. `lastPushId` resumes: everything after it is delivered, and everything up to it counts as acked. */
export const helloFrame = z.object({
  type: z.literal('hello'),
  v: z.literal(REALTIME_PROTOCOL_VERSION),
  lastPushId: pushId.optional(),
});

/** Same as `hello` with a `lastPushId`; for clients that prefer to say what they do. */
export const resumeFrame = z.object({
  type: z.literal('resume'),
  v: z.literal(REALTIME_PROTOCOL_VERSION),
  lastPushId: pushId,
});

/** Acknowledges pushes: the server stops re-sending them and removes them from the inbox. */
export const ackFrame = z.object({
  type: z.literal('ack'),
  ids: z.array(pushId).min(1).max(REALTIME_LIMITS.maxAckIds),
});

export const chatMessageInput = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string().max(REALTIME_LIMITS.maxChatChars),
});

/**
 * A user message. Give `text` (one user turn) or `messages` (a whole conversation, OpenAI roles).
 * The answer streams back on the same socket as `accepted`, `delta`…, `sources`?, then `done` or
 * `error`, all carrying the same `ref`. The socket is the end user's text chat: fields of OpenAI's
 * API for agents (tools, response_format, images, n...) are the HTTP API's, and here a frame that
 * carries one is refused naming it (strict), never answered as if it had been honoured.
 */
export const chatFrame = z
  .strictObject({
    type: z.literal('chat'),
    ref,
    text: z.string().min(1).max(REALTIME_LIMITS.maxChatChars).optional(),
    messages: z.array(chatMessageInput).min(1).max(REALTIME_LIMITS.maxChatMessages).optional(),
    model: z.string().min(1).max(128).optional(),
    sessionId: z.string().min(1).max(REALTIME_LIMITS.maxIdLength).optional(),
    maxTokens: z.number().int().min(1).max(32_768).optional(),
    temperature: z.number().min(0).max(2).optional(),
  })
  .refine((frame) => (frame.text === undefined) !== (frame.messages === undefined), { message: 'give exactly one of text or messages', path: ['text'] });

/** Application-level keep-alive (browsers cannot see WebSocket protocol pings). `t` is echoed. */
export const pingFrame = z.object({ type: z.literal('ping'), t: z.union([z.string().max(64), z.number()]).optional() });

export const clientFrame = z.union([helloFrame, resumeFrame, ackFrame, chatFrame, pingFrame]);
export type ClientFrame = z.infer<typeof clientFrame>;
export type HelloFrame = z.infer<typeof helloFrame>;
export type ResumeFrame = z.infer<typeof resumeFrame>;
export type AckFrame = z.infer<typeof ackFrame>;
export type ChatFrame = z.infer<typeof chatFrame>;
export type PingFrame = z.infer<typeof pingFrame>;
export const CLIENT_FRAME_TYPES = ['hello', 'resume', 'ack', 'chat', 'ping'] as const;

// ---------------------------------------------------------------- server → client

export const welcomeFrame = z.object({
  type: z.literal('welcome'),
  v: z.literal(REALTIME_PROTOCOL_VERSION),
  connectionId: z.string(),
  userId: z.string(),
  /** Pushes waiting for this user (unacked, after `lastPushId`); they follow at once. */
  pending: z.number().int().nonnegative(),
  /** The server re-sends an unacked push after this long. */
  resendAfterMs: z.number().int().positive(),
  /** The server pings (protocol level) this often; send an app-level `ping` at about this rate too. */
  heartbeatMs: z.number().int().positive(),
  limits: z.object({ maxFrameBytes: z.number().int(), maxAckIds: z.number().int(), maxChatChars: z.number().int() }),
});

/** A proactive prompt or a notice for this user. Deduplicate by `id`; ack it. */
export const pushFrame = z.object({
  type: z.literal('push'),
  id: pushId,
  /** Per-user sequence, +1 per push: a gap means a push was dropped from a full inbox. */
  seq: z.number().int().positive(),
  kind: z.enum(['proactive', 'notice']),
  /** Proactive prompts: the intent that triggered it (e.g. `hotel.suggest`). */
  intent: z.string().optional(),
  /** Notices: the title. */
  title: z.string().optional(),
  text: z.string(),
  link: z.string().optional(),
  slots: z.record(z.string(), z.string()).optional(),
  sessionId: z.string().optional(),
  /** When the push was decided (ISO 8601). */
  time: z.string(),
  expiresAt: z.string().optional(),
  /** Re-sends of this push on this connection so far (0 on first delivery). */
  redelivery: z.number().int().nonnegative(),
});

export const acceptedFrame = z.object({ type: z.literal('accepted'), ref, taskId: z.string() });
/** A piece of the answer. `reset: true`: the generation restarted, discard the text so far first. */
export const deltaFrame = z.object({ type: z.literal('delta'), ref, taskId: z.string(), text: z.string(), reset: z.boolean().optional() });
export const sourcesFrame = z.object({
  type: z.literal('sources'),
  ref,
  taskId: z.string(),
  sources: z.array(z.object({ docId: z.string(), version: z.string().optional(), position: z.number().int().optional() })),
});
export const doneFrame = z.object({
  type: z.literal('done'),
  ref,
  taskId: z.string(),
  finishReason: z.enum(['stop', 'length', 'content_filter', 'tool_calls']),
  model: z.string(),
  usage: z.object({ promptTokens: z.number().int(), completionTokens: z.number().int(), totalTokens: z.number().int() }),
});
export const pongFrame = z.object({ type: z.literal('pong'), t: z.union([z.string(), z.number()]).optional() });

export const ERROR_CODES = [
  'invalid_json',
  'invalid_frame',
  'unknown_type',
  'unsupported_version',
  'hello_required',
  'unauthorized',
  // the same codes as access's HTTP errors for the same refusals (@aip/chat-policy):
  'model_not_found',
  'model_not_allowed',
  'content_policy_violation',
  'role_not_allowed',
  'session_not_owned',
  'service_unavailable',
  'too_many_chats',
  'rate_limited',
  'internal',
  // chat failures relayed from the request path (limiter / worker), as their own code:
  'chat_failed',
] as const;

/** Something went wrong. With `ref`: that chat failed (terminal for it). Without: a frame was refused; the connection stays open unless a close follows. */
export const errorFrame = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  ref: ref.optional(),
  taskId: z.string().optional(),
  retryAfterMs: z.number().int().optional(),
});

export const serverFrame = z.discriminatedUnion('type', [welcomeFrame, pushFrame, acceptedFrame, deltaFrame, sourcesFrame, doneFrame, pongFrame, errorFrame]);
export type ServerFrame = z.infer<typeof serverFrame>;
export type WelcomeFrame = z.infer<typeof welcomeFrame>;
export type PushFrame = z.infer<typeof pushFrame>;
export type ErrorFrame = z.infer<typeof errorFrame>;

/** WebSocket close codes the server uses (4xxx mirror HTTP statuses where one fits). */
export const CLOSE_CODES = {
  normal: 1000,
  /** Server shutting down or restarting: reconnect (to another instance) with `lastPushId`. */
  goingAway: 1001,
  /** Binary frames are not part of the protocol. */
  unsupportedData: 1003,
  /** Inbound frame over `maxFrameBytes`. */
  tooBig: 1009,
  internalError: 1011,
  /** Too many invalid frames in a row: the client is broken, do not reconnect blindly. */
  protocolViolation: 4400,
  /** Missing, wrong, revoked or expired API key / token: get a new token before reconnecting. */
  unauthorized: 4401,
  /** No `hello` within the hello timeout. */
  helloTimeout: 4408,
  /** Too many connections for this user: close another tab/connection first. */
  tooManyConnections: 4429,
  /** The client did not read fast enough and the server's send buffer passed its bound. Reconnect with `lastPushId`. */
  slowConsumer: 4503,
} as const;

/** Claims of a short-lived realtime token (`POST /v1/realtime/tokens` on access), stored in Redis under the token's sha256. */
export const realtimeTokenClaims = z.object({
  tenantId: z.string().min(1).max(128),
  keyId: z.string().min(1).max(128),
  userId: z.string().min(1).max(REALTIME_LIMITS.maxIdLength),
  /** Epoch ms. */
  expiresAt: z.number().int(),
});
export type RealtimeTokenClaims = z.infer<typeof realtimeTokenClaims>;

/** Redis key of a token's claims: `<prefix>rtc:token:<sha256 hex of the token>`; shared by access (writer) and rtc-push (reader). */
export const realtimeTokenKey = (prefix: string, sha256Hex: string) => `${prefix}rtc:token:${sha256Hex}`;
/** Tokens look like `rtt_<43 base64url chars>`. */
export const REALTIME_TOKEN_PREFIX = 'rtt_';
