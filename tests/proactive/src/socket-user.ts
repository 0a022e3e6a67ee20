// A user of the realtime edge at the socket level (no browser): connects to rtc-push, says hello
// with the last push id it has, acks every push, deduplicates by id as the protocol asks, and
// chats. What the tests read is what such a client would show its user.
import { randomUUID } from 'node:crypto';
import { Collector } from '@aip/testing';
import WebSocket from 'ws';

export interface Push {
  type: 'push';
  id: string;
  seq: number;
  kind: 'proactive' | 'notice';
  intent?: string;
  text: string;
  slots?: Record<string, string>;
  redelivery: number;
}

export interface Frame {
  type: string;
  [field: string]: unknown;
}

export class SocketUser {
  /** Pushes shown to the user: each id once, in arrival order. */
  readonly pushes = new Collector<Push>();
  /** Every frame received on every connection, duplicates included. */
  readonly frames: Frame[] = [];
  lastPushId: string | undefined;
  private socket: WebSocket | undefined;
  private closed: Promise<number> | undefined;
  private readonly waiters = new Set<(frame: Frame) => void>();

  constructor(
    readonly userId: string,
    private readonly apiKey: string,
  ) {}

  /** Connects to an rtc-push instance (`http://host:port`) and waits for `welcome`. */
  async connect(baseUrl: string): Promise<Frame> {
    const url = `${baseUrl.replace(/^http/, 'ws')}/v1/ws?user=${encodeURIComponent(this.userId)}`;
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${this.apiKey}` } });
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', (code) => resolve(code)));
    socket.on('message', (data) => this.onFrame(JSON.parse(String(data)) as Frame));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const welcome = this.next((frame) => frame.type === 'welcome' || frame.type === 'error', 15_000);
    socket.send(JSON.stringify({ type: 'hello', v: 1, ...(this.lastPushId ? { lastPushId: this.lastPushId } : {}) }));
    const frame = await welcome;
    if (frame.type !== 'welcome') throw new Error(`connect refused: ${JSON.stringify(frame)}`);
    return frame;
  }

  /** Closes the socket as a client that goes away would (no goodbye). */
  async disconnect(): Promise<void> {
    this.socket?.terminate();
    await this.closed;
    this.socket = undefined;
  }

  /** Sends one user turn and resolves with the answer's text, sources and end frame. */
  async chat(text: string, sessionId: string, timeoutMs = 60_000): Promise<{ text: string; done: Frame; sources?: Frame }> {
    const ref = randomUUID();
    const end = this.next((frame) => frame['ref'] === ref && (frame.type === 'done' || frame.type === 'error'), timeoutMs);
    this.socket!.send(JSON.stringify({ type: 'chat', ref, text, sessionId }));
    const done = await end;
    if (done.type === 'error') throw new Error(`chat failed: ${JSON.stringify(done)}`);
    const mine = this.frames.filter((frame) => frame['ref'] === ref);
    const sources = mine.find((frame) => frame.type === 'sources');
    return { text: mine.filter((frame) => frame.type === 'delta').map((frame) => frame['text']).join(''), done, ...(sources ? { sources } : {}) };
  }

  /** Resolves with the first frame from now on that matches. */
  next(match: (frame: Frame) => boolean, timeoutMs: number): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.waiters.delete(waiter), reject(new Error(`${this.userId}: no matching frame within ${timeoutMs} ms`))), timeoutMs);
      const waiter = (frame: Frame) => {
        if (!match(frame)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(frame);
      };
      this.waiters.add(waiter);
    });
  }

  private onFrame(frame: Frame) {
    this.frames.push(frame);
    if (frame.type === 'push') {
      const push = frame as unknown as Push;
      this.socket?.send(JSON.stringify({ type: 'ack', ids: [push.id] }));
      if (!this.pushes.items.some((seen) => seen.id === push.id)) {
        this.pushes.push(push);
        this.lastPushId = push.id;
      }
    }
    for (const waiter of [...this.waiters]) waiter(frame);
  }
}
