import fc from 'fast-check';
import WebSocket from 'ws';
import { CLOSE_CODES, REALTIME_LIMITS } from '@aip/contracts';
import { mutated, nastyString, wrongValue } from './hostile.ts';

/** One inbound frame of a session: text (any string), a binary frame, or a burst of the same text. */
export type WsFrame = { kind: 'text'; data: string } | { kind: 'binary'; data: Buffer } | { kind: 'burst'; data: string; count: number };

export interface WsSession {
  /** How the socket authenticates: key + user in the URL, a token in the URL or the subprotocol, or nothing valid. */
  auth: 'key' | 'token-query' | 'token-protocol' | 'bad-key' | 'none';
  user: string;
  frames: WsFrame[];
}

export interface WsOutcome {
  framesSent: number;
  received: { type?: string; code?: string; ref?: string; message?: string }[];
  closeCode?: number;
  closeReason?: string;
  /** The HTTP status of a handshake the server refused. */
  handshakeStatus?: number;
  /** The final ping (sent if the socket was still open) got its pong. */
  pongAtEnd?: boolean;
  /** Chats whose answer never ended (no `done` or `error` with their ref) before the timeout. */
  unfinishedChats: string[];
  error?: string;
  /** Bytes of the upgrade request's target and headers (Node refuses a head over 16 KiB). */
  headBytes: number;
}

/** Close codes that are answers to what the client did; anything else (1011, 1006 = dropped) is a failure. */
export const EXPECTED_CLOSE_CODES = new Set<number>([1000, 1005, 1008, CLOSE_CODES.unsupportedData, CLOSE_CODES.tooBig, CLOSE_CODES.protocolViolation, CLOSE_CODES.unauthorized, CLOSE_CODES.helloTimeout, CLOSE_CODES.tooManyConnections, CLOSE_CODES.slowConsumer]);
/** Error codes that mean the server failed, not the client. */
export const SERVER_FAILURE_CODES = new Set(['internal', 'unavailable', 'service_unavailable']);

const valid = {
  hello: { type: 'hello', v: 1 },
  helloResume: { type: 'hello', v: 1, lastPushId: '1-0' },
  resume: { type: 'resume', v: 1, lastPushId: '1764000000000-0' },
  ack: { type: 'ack', ids: ['1764000000000-0', '1764000000001-0'] },
  chat: { type: 'chat', ref: 'r1', text: 'Which sights are in Beijing?', model: 'extractive', maxTokens: 64 },
  chatMessages: { type: 'chat', ref: 'r2', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: 'sights?' }], sessionId: 'fuzz-ws' },
  ping: { type: 'ping', t: 'x' },
};

const textFrame: fc.Arbitrary<WsFrame> = fc
  .oneof(
    { weight: 8, arbitrary: fc.constantFrom(...Object.values(valid)).chain((frame) => mutated(frame)).map((value) => JSON.stringify(value) ?? 'null') },
    { weight: 2, arbitrary: fc.tuple(nastyString, fc.dictionary(nastyString, wrongValue, { maxKeys: 4 })).map(([type, rest]) => JSON.stringify({ ...rest, type })) },
    { weight: 1, arbitrary: fc.constantFrom('', 'null', '[]', '"hello"', '{', '{"type":', '{"type":"hello","v":1', '{"type":"hello","v":1}{"type":"ping"}', '\u0000', '\uD800', '{"type":"\uD800"}', '{"__proto__":{"type":"chat"}}', '{"type":"ack","ids":[' + '"1-0",'.repeat(600) + '"1-0"]}') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((depth) => `{"type":"chat","ref":"d","text":"x","messages":${'['.repeat(depth)}${']'.repeat(depth)}}`) },
  )
  .map((data): WsFrame => ({ kind: 'text', data }));

const frame: fc.Arbitrary<WsFrame> = fc.oneof(
  { weight: 12, arbitrary: textFrame },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): WsFrame => ({ kind: 'binary', data: Buffer.from(bytes) })) },
  // Over the frame limit: the socket must close with 1009, not crash.
  { weight: 1, arbitrary: fc.constant<WsFrame>({ kind: 'text', data: JSON.stringify({ type: 'ping', t: 'x'.repeat(REALTIME_LIMITS.maxFrameBytes + 10) }) }) },
  // Floods: more frames than the server queues (64), or a run of chats past the per-connection cap.
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(JSON.stringify(valid.ping), JSON.stringify(valid.chat), JSON.stringify({ type: 'nope' }), '{'), fc.integer({ min: 5, max: 200 })).map(([data, count]): WsFrame => ({ kind: 'burst', data, count })) },
);

export const wsSession: fc.Arbitrary<WsSession> = fc.record({
  auth: fc.constantFrom('key', 'key', 'key', 'key', 'token-query', 'token-protocol', 'bad-key', 'none'),
  user: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('fuzz-ws-1', 'fuzz-ws-2', 'fuzz-ws-3') }, { weight: 1, arbitrary: nastyString }),
  frames: fc.oneof(
    // Mostly a hello first, so the frames after it reach the handlers behind it.
    { weight: 4, arbitrary: fc.array(frame, { maxLength: 12 }).map((rest): WsFrame[] => [{ kind: 'text', data: JSON.stringify(valid.hello) }, ...rest]) },
    { weight: 1, arbitrary: fc.array(frame, { maxLength: 12 }) },
  ),
});

export function describeSession(session: WsSession): string {
  return `ws ${session.auth} user=${JSON.stringify(session.user)}\n${session.frames.map((f) => `  ${f.kind === 'binary' ? `binary ${f.data.toString('hex')}` : `${f.kind === 'burst' ? `${f.count}× ` : ''}${JSON.stringify(f.data.length > 300 ? `${f.data.slice(0, 300)}… (${f.data.length} chars)` : f.data)}`}`).join('\n')}`;
}

/** Runs one session against rtc-push's `/v1/ws` and reports what the server did. */
export async function runSession(port: number, session: WsSession, credentials: { key: string; token: string }, timeoutMs: number): Promise<WsOutcome> {
  const user = encodeURIComponent(session.user.replace(/[\uD800-\uDFFF]/g, '\uFFFD'));
  const url = {
    key: `ws://127.0.0.1:${port}/v1/ws?user=${user}`,
    'bad-key': `ws://127.0.0.1:${port}/v1/ws?user=${user}`,
    'token-query': `ws://127.0.0.1:${port}/v1/ws?token=${credentials.token}`,
    'token-protocol': `ws://127.0.0.1:${port}/v1/ws`,
    none: `ws://127.0.0.1:${port}/v1/ws?user=${user}`,
  }[session.auth];
  const headers: Record<string, string> = session.auth === 'key' ? { authorization: `Bearer ${credentials.key}` } : session.auth === 'bad-key' ? { authorization: 'Bearer sk-aip-not-a-key' } : {};
  const protocols = session.auth === 'token-protocol' ? ['aip.v1', `aip.token.${credentials.token}`] : undefined;
  const headBytes = Buffer.byteLength(url) + Object.entries(headers).reduce((sum, [name, value]) => sum + name.length + Buffer.byteLength(value) + 4, 0) + (protocols ? protocols.join(', ').length : 0);
  const outcome: WsOutcome = { framesSent: 0, received: [], unfinishedChats: [], headBytes };
  const socket = new WebSocket(url, protocols, { headers, handshakeTimeout: timeoutMs, maxPayload: 8 * 1024 * 1024 });
  const closed = new Promise<void>((resolve) => {
    socket.on('close', (code, reason) => {
      outcome.closeCode = code;
      outcome.closeReason = reason.toString();
      resolve();
    });
  });
  const waiters: { test: (frame: WsOutcome['received'][number]) => boolean; resolve: () => void }[] = [];
  socket.on('message', (data) => {
    let parsed: WsOutcome['received'][number];
    try {
      parsed = JSON.parse(String(data)) as WsOutcome['received'][number];
    } catch {
      parsed = { type: 'unparseable', message: String(data).slice(0, 200) };
    }
    outcome.received.push(parsed);
    for (const waiter of [...waiters]) if (waiter.test(parsed)) waiter.resolve();
  });
  socket.on('error', (error) => (outcome.error = error.message));
  // A refused handshake (400, 404, 431...) is an HTTP answer: keep its status, a 5xx is a failure.
  socket.on('unexpected-response', (_request, response) => {
    outcome.handshakeStatus = response.statusCode;
    response.resume();
    socket.terminate();
  });
  const open = await Promise.race([new Promise<boolean>((resolve) => socket.once('open', () => resolve(true))), closed.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs))]);
  const isOpen = () => socket.readyState === WebSocket.OPEN;
  const waitFor = (test: (frame: WsOutcome['received'][number]) => boolean, ms: number) =>
    Promise.race([
      new Promise<boolean>((resolve) => {
        if (outcome.received.some(test)) return resolve(true);
        waiters.push({ test, resolve: () => resolve(true) });
      }),
      closed.then(() => outcome.received.some(test)),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(outcome.received.some(test)), ms)),
    ]);
  const chats = new Set<string>();
  if (open) {
    for (const item of session.frames) {
      if (!isOpen()) break;
      const count = item.kind === 'burst' ? item.count : 1;
      for (let i = 0; i < count && isOpen(); i++) {
        socket.send(item.data, { binary: item.kind === 'binary' });
        outcome.framesSent++;
      }
      if (item.kind !== 'binary') {
        try {
          const value = JSON.parse(item.data) as { type?: unknown; ref?: unknown };
          if (value && value.type === 'chat' && typeof value.ref === 'string') chats.add(value.ref);
        } catch {
          // not JSON: nothing to wait for
        }
      }
      // A hello is answered before anything else is worth sending.
      if (item.kind === 'text' && item.data === JSON.stringify(valid.hello)) await waitFor((f) => f.type === 'welcome' || f.type === 'error', timeoutMs);
    }
    // Every chat the server accepted must end, with `done` or an `error` carrying its ref.
    for (const ref of chats) {
      if (!isOpen()) break;
      const ended = await waitFor((f) => f.ref === ref && (f.type === 'done' || f.type === 'error'), timeoutMs);
      if (!ended && outcome.received.some((f) => f.ref === ref)) outcome.unfinishedChats.push(ref);
    }
    if (isOpen()) {
      socket.send(JSON.stringify({ type: 'ping', t: 'fuzz-end' }));
      outcome.framesSent++;
      const pong = await waitFor((f) => f.type === 'pong' && (f as { t?: unknown }).t === 'fuzz-end', timeoutMs);
      // A close the server had already begun (after a binary or oversized frame, say) answers instead of the pong.
      if (pong || outcome.closeCode === undefined) outcome.pongAtEnd = pong;
    }
  }
  if (socket.readyState !== WebSocket.CLOSED) {
    socket.close(1000);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    if ((socket.readyState as number) !== WebSocket.CLOSED) socket.terminate();
  }
  return outcome;
}

/** What is wrong with a session's outcome, if anything (undefined: the server behaved). */
export function wsViolation(session: WsSession, outcome: WsOutcome): string | undefined {
  if (outcome.handshakeStatus !== undefined) return outcome.handshakeStatus >= 500 ? `the handshake was answered ${outcome.handshakeStatus}` : undefined;
  // As for HTTP: a head over Node's 16 KiB is refused (431) and the connection closed at once; a
  // client still writing its upgrade sees a reset instead of the answer (TCP drops what was unread).
  if (outcome.headBytes > 16 * 1024 && outcome.received.length === 0 && /EPIPE|ECONNRESET/.test(outcome.error ?? '')) return undefined;
  const failed = outcome.received.find((f) => f.type === 'error' && f.code !== undefined && SERVER_FAILURE_CODES.has(f.code));
  if (failed) return `server failure frame ${JSON.stringify(failed)}`;
  // The client closes normally at the end (1000/1005 seen from our side); the server's own closes must be protocol answers.
  if (outcome.closeCode !== undefined && !EXPECTED_CLOSE_CODES.has(outcome.closeCode)) return `closed with ${outcome.closeCode} ${JSON.stringify(outcome.closeReason)}${outcome.error ? ` (${outcome.error})` : ''}`;
  if (outcome.unfinishedChats.length) return `chats that never ended: ${outcome.unfinishedChats.join(', ')}`;
  if (outcome.pongAtEnd === false) return 'the final ping on an open socket got no pong (the socket hangs)';
  const authenticated = session.auth === 'key' || session.auth === 'token-query' || session.auth === 'token-protocol';
  if (!authenticated && outcome.closeCode !== CLOSE_CODES.unauthorized && outcome.closeCode !== undefined && outcome.received.length > 0 && !outcome.received.some((f) => f.code === 'unauthorized')) {
    return `an unauthenticated socket was not refused: ${JSON.stringify(outcome.received.slice(0, 3))}`;
  }
  return undefined;
}
