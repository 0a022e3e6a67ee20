import { connect, type Socket } from 'node:net';

/**
 * One HTTP/1.1 request written byte for byte on a fresh socket. fetch and node:http refuse most of
 * what the fuzz must send (CR/LF in header values, NUL and non-UTF-8 bytes in paths and headers,
 * conflicting framing headers), so this client builds the request head itself and only parses
 * the status line and headers of the answer.
 */
export interface RawRequest {
  method: string;
  /** Request target as sent: may hold bytes no URL parser would accept. */
  target: string | Buffer;
  headers: [name: string, value: string | Buffer][];
  body?: Buffer;
  /** Leave out the Content-Length header the client would otherwise add for a body. */
  noContentLength?: boolean;
  /**
   * How far to read a `text/event-stream` answer: `headers` (subscriptions that stay open) or
   * `end` (a chat's stream, which must end by itself within the timeout).
   */
  stream?: 'headers' | 'end';
}

export interface RawResponse {
  /** `answered` (a status line arrived), `timeout` (nothing within the client timeout), `closed` (the server hung up without a status line). */
  outcome: 'answered' | 'timeout' | 'closed';
  status: number;
  headers: Record<string, string>;
  /** The first 4 KiB of the body (the whole body of event streams read to the end, up to 256 KiB). */
  body: string;
  latencyMs: number;
  /** A streamed answer (`stream: 'end'`) that did not end within the timeout. */
  streamUnfinished?: boolean;
  error?: string;
}

const MAX_BODY = 4_096;
const EARLY_ANSWER_BYTES = 64 * 1024;
const MAX_STREAM = 256 * 1024;

export function encodeRequest(request: RawRequest): Buffer {
  const lines: Buffer[] = [Buffer.from(`${request.method} `, 'latin1'), Buffer.isBuffer(request.target) ? request.target : Buffer.from(request.target, 'utf8'), Buffer.from(' HTTP/1.1\r\n', 'latin1')];
  const headers = [...request.headers];
  const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
  if (!has('host')) headers.unshift(['host', '127.0.0.1']);
  if (!has('connection')) headers.push(['connection', 'close']);
  if (request.body && !request.noContentLength && !has('content-length') && !has('transfer-encoding')) headers.push(['content-length', String(request.body.length)]);
  for (const [name, value] of headers) lines.push(Buffer.from(`${name}: `, 'latin1'), Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8'), Buffer.from('\r\n', 'latin1'));
  lines.push(Buffer.from('\r\n', 'latin1'));
  // Chunked framing is written as such (a body that claims to be chunked but is not would only
  // leave the server waiting for the rest, as it should); with a Content-Length too it stays raw.
  const chunked = headers.some(([n, v]) => n.toLowerCase() === 'transfer-encoding' && String(v).includes('chunked')) && !has('content-length');
  if (chunked) lines.push(Buffer.from(request.body?.length ? `${request.body.length.toString(16)}\r\n` : '', 'latin1'), request.body ?? Buffer.alloc(0), Buffer.from(request.body?.length ? '\r\n0\r\n\r\n' : '0\r\n\r\n', 'latin1'));
  else if (request.body) lines.push(request.body);
  return Buffer.concat(lines);
}

/** Sends one request and resolves with what came back; never rejects. */
export function sendRaw(port: number, request: RawRequest, timeoutMs: number): Promise<RawResponse> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    let head: { status: number; headers: Record<string, string>; bodyAt: number } | undefined;
    let latencyMs = 0;
    let settled = false;
    let socketError: string | undefined;
    const finish = (outcome: RawResponse['outcome'], extra: Partial<RawResponse> = {}) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = head ? received.subarray(head.bodyAt) : Buffer.alloc(0);
      const body = head?.headers['transfer-encoding']?.includes('chunked') ? dechunk(raw) : raw;
      const streaming = head?.headers['content-type']?.startsWith('text/event-stream') && request.stream === 'end';
      resolve({
        outcome,
        status: head?.status ?? 0,
        headers: head?.headers ?? {},
        body: body.subarray(0, streaming ? MAX_STREAM : MAX_BODY).toString('utf8'),
        latencyMs: head ? latencyMs : performance.now() - started,
        ...(socketError ? { error: socketError } : {}),
        ...extra,
      });
    };
    const timer = setTimeout(() => (head ? finish('answered', request.stream === 'end' ? { streamUnfinished: true } : {}) : finish('timeout')), timeoutMs);
    const write = (bytes: Buffer) =>
      socket.write(bytes, (error) => {
        if (error) socketError = error.message;
      });
    socket.on('connect', () => {
      const bytes = encodeRequest(request);
      const bodyAt = bytes.length - (request.body?.length ?? 0);
      if (bytes.length - bodyAt <= EARLY_ANSWER_BYTES) return void write(bytes);
      // A large body goes after a short wait, as with `Expect: 100-continue`: a server refusing it by its
      // headers (413, 401) answers first, and its close does not reset a connection we are still writing to.
      write(bytes.subarray(0, bodyAt));
      setTimeout(() => {
        if (!head && !settled) write(bytes.subarray(bodyAt));
      }, 50);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      while (!head) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = received.subarray(0, end).toString('latin1').split('\r\n');
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
        // Interim answers (100 Continue, 103 Early Hints) precede the real one.
        if (status >= 100 && status < 200 && status !== 101) {
          received = received.subarray(end + 4);
          continue;
        }
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        head = { status, headers, bodyAt: end + 4 };
        latencyMs = performance.now() - started;
        // A subscription stream stays open by design: its status line is the answer.
        if (headers['content-type']?.startsWith('text/event-stream') && request.stream !== 'end') return finish('answered');
        // A WebSocket upgrade answered 101: the handshake is the answer.
        if (status === 101) return finish('answered');
      }
      // The answer is complete: its Content-Length is in, or the last chunk came. (The server may keep
      // the socket open after it, e.g. when a handler set `connection: keep-alive` itself.)
      const length = Number(head.headers['content-length'] ?? NaN);
      if (Number.isFinite(length) && received.length - head.bodyAt >= length) return finish('answered');
      if (head.headers['transfer-encoding']?.includes('chunked') && received.subarray(-7).toString('latin1') === '\r\n0\r\n\r\n') return finish('answered');
      if (received.length - head.bodyAt > MAX_STREAM) finish('answered');
    });
    socket.on('error', (error) => {
      socketError = error.message;
    });
    socket.on('close', () => finish(head ? 'answered' : 'closed'));
  });
}

/** The payload of a chunked body (as much of it as arrived). */
function dechunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < raw.length) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
