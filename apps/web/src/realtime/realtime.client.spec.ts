import { jest } from '@jest/globals';
import { HttpError } from '../settings/http-error.ts';
import { CLOSE, RealtimeClient, type SocketLike, type StateDetail } from './realtime.client.ts';

class FakeSocket implements SocketLike {
  readyState = 0;
  readonly sent: Record<string, unknown>[] = [];
  closedWith: number | undefined;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code = 1000) {
    this.closedWith = code;
    this.readyState = 3;
  }
  /** The server side. */
  open() {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  receive(frame: object) {
    this.onmessage?.({ data: JSON.stringify(frame) } as MessageEvent);
  }
  drop(code = 1006, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason } as CloseEvent);
  }
  sentOf(type: string) {
    return this.sent.filter((frame) => frame['type'] === type);
  }
}

const welcome = { type: 'welcome', v: 1, connectionId: 'c1', userId: 'u', pending: 0, resendAfterMs: 10_000, heartbeatMs: 30_000, limits: { maxFrameBytes: 65_536, maxAckIds: 500, maxChatChars: 32_000 } };
const push = (id: string, text = 'Hotels in Beijing?') => ({ type: 'push', id, seq: 1, kind: 'proactive', intent: 'hotel_suggest', text, time: '2026-01-01T00:00:00Z', redelivery: 0 });

function setUp(options: { stored?: string; socketUrl?: () => Promise<string> } = {}) {
  const stored = new Map<string, string>(options.stored ? [['last', options.stored]] : []);
  const sockets: FakeSocket[] = [];
  const client = new RealtimeClient({
    socketUrl: options.socketUrl ?? (async () => 'ws://edge/v1/ws?token=t'),
    store: { get: (key) => stored.get(key) ?? null, set: (key, value) => void stored.set(key, value) },
    storeKey: 'last',
    openSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    online: () => true,
  });
  const states: StateDetail[] = [];
  const pushes: string[] = [];
  client.on('state', (detail) => states.push(detail));
  client.on('push', (frame) => pushes.push(frame.id));
  return { client, stored, sockets, states, pushes, latest: () => sockets.at(-1)! };
}

/** Lets the client's awaited socketUrl() settle. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('RealtimeClient', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('says hello with the last push id it stored, and is open once welcomed', async () => {
    const { client, latest, states } = setUp({ stored: '1764000000000-0' });
    client.start();
    await settle();
    latest().open();
    expect(latest().sent[0]).toEqual({ type: 'hello', v: 1, lastPushId: '1764000000000-0' });
    expect(client.state).toBe('connecting');
    latest().receive(welcome);
    expect(states.at(-1)).toMatchObject({ state: 'open', reconnects: 0 });
    client.stop();
  });

  it('shows each push once, acks every delivery (re-sends too) in one frame, and remembers the last id', async () => {
    const { client, latest, pushes, stored } = setUp();
    client.start();
    await settle();
    latest().open();
    latest().receive(welcome);
    latest().receive(push('1764000000000-0'));
    latest().receive(push('1764000000000-0'));
    latest().receive(push('1764000000500-0'));
    latest().receive(push('999-0')); // older than what was shown: a late re-send
    expect(pushes).toEqual(['1764000000000-0', '1764000000500-0']);
    expect(stored.get('last')).toBe('1764000000500-0');
    jest.advanceTimersByTime(20);
    expect(latest().sentOf('ack')).toEqual([{ type: 'ack', ids: ['1764000000000-0', '1764000000000-0', '1764000000500-0', '999-0'] }]);
    client.stop();
  });

  it('reconnects after a lost socket with a backed-off delay and resumes from the last push', async () => {
    const { client, latest, sockets, states } = setUp();
    client.start();
    await settle();
    latest().open();
    latest().receive(welcome);
    latest().receive(push('1764000000000-0'));
    latest().drop();
    const waiting = states.at(-1)!;
    expect(waiting).toMatchObject({ state: 'reconnecting', attempt: 1, reason: 'closed (1006)' });
    // Attempt 1 waits between half and all of the initial 500 ms.
    expect(waiting.retryInMs).toBeGreaterThanOrEqual(250);
    expect(waiting.retryInMs).toBeLessThanOrEqual(500);
    jest.advanceTimersByTime(waiting.retryInMs!);
    await settle();
    expect(sockets).toHaveLength(2);
    latest().open();
    expect(latest().sent[0]).toEqual({ type: 'hello', v: 1, lastPushId: '1764000000000-0' });
    latest().receive(welcome);
    expect(states.at(-1)).toMatchObject({ state: 'open', reconnects: 1 });
    client.stop();
  });

  it('goes offline at once when the network goes, and reconnects without waiting when it is back', async () => {
    const { client, latest, sockets, states } = setUp();
    client.start();
    await settle();
    latest().open();
    latest().receive(welcome);
    client.networkLost();
    expect(states.at(-1)!.state).toBe('offline');
    expect(sockets[0]!.closedWith).toBe(1000);
    client.networkBack();
    await settle();
    expect(sockets).toHaveLength(2);
    expect(states.at(-1)!.state).toBe('reconnecting');
    client.stop();
  });

  it('says unauthorized when access refuses the key, and stops on a protocol violation', async () => {
    const refused = setUp({ socketUrl: async () => Promise.reject(new HttpError(401, 'Invalid API key.')) });
    refused.client.start();
    await settle();
    expect(refused.states.at(-1)).toMatchObject({ state: 'unauthorized', reason: 'Invalid API key.' });
    expect(refused.sockets).toHaveLength(0);

    const broken = setUp();
    broken.client.start();
    await settle();
    broken.latest().open();
    broken.latest().drop(CLOSE.protocolViolation, 'too many invalid frames');
    expect(broken.states.at(-1)).toMatchObject({ state: 'failed', reason: 'too many invalid frames' });
    jest.advanceTimersByTime(60_000);
    expect(broken.sockets).toHaveLength(1);
  });

  it('sends chat only on an open connection', async () => {
    const { client, latest } = setUp();
    expect(client.sendChat({ ref: 'c-1', text: 'hi' })).toBe(false);
    client.start();
    await settle();
    latest().open();
    latest().receive(welcome);
    const chats: unknown[] = [];
    client.on('chat', (frame) => chats.push(frame));
    expect(client.sendChat({ ref: 'c-1', text: 'hi', model: 'extractive' })).toBe(true);
    expect(latest().sentOf('chat')).toEqual([{ type: 'chat', ref: 'c-1', text: 'hi', model: 'extractive' }]);
    latest().receive({ type: 'delta', ref: 'c-1', taskId: 't', text: 'Hel' });
    latest().receive({ type: 'error', code: 'invalid_frame', message: 'no ref' });
    expect(chats).toEqual([{ type: 'delta', ref: 'c-1', taskId: 't', text: 'Hel' }]);
    client.stop();
  });
});
