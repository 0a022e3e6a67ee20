import { CLOSE_CODES, type ServerFrame } from '@aip/contracts';
import { Connection, type FrameTransport } from './connection.ts';

class FakeTransport implements FrameTransport {
  readonly kind = 'ws' as const;
  readonly frames: ServerFrame[] = [];
  buffered = 0;
  closedWith: [number, string] | undefined;
  write(frame: ServerFrame, text: string) {
    this.frames.push(frame);
    this.buffered += text.length;
  }
  bufferedBytes() {
    return this.buffered;
  }
  close(code: number, reason: string) {
    this.closedWith = [code, reason];
  }
}

const push = (id: string, seq: number, extra: Record<string, unknown> = {}) => ({ id, seq, kind: 'proactive' as const, intent: 'hotel.suggest', text: `push ${seq}`, time: '2026-11-22T10:00:00.000Z', ...extra });

describe('Connection', () => {
  const make = (maxBufferedBytes = 10_000) => {
    const transport = new FakeTransport();
    const slow: Connection[] = [];
    const connection = new Connection({ tenantId: 't', userId: 'u' }, transport, { resendAfterMs: 1_000, maxBufferedBytes, startAfter: '0-0' }, { onSlowConsumer: (c) => slow.push(c) });
    return { transport, connection, slow };
  };

  it('writes a push frame and marks re-sends with their count', () => {
    const { transport, connection } = make();
    expect(connection.deliver(push('1-0', 1), 0)).toBe(0);
    expect(connection.deliver(push('1-0', 1), 1_000)).toBe(1);
    expect(transport.frames).toEqual([
      { type: 'push', id: '1-0', seq: 1, kind: 'proactive', intent: 'hotel.suggest', text: 'push 1', time: '2026-11-22T10:00:00.000Z', redelivery: 0 },
      expect.objectContaining({ id: '1-0', redelivery: 1 }),
    ]);
  });

  it('drops a push whose expiry has passed', () => {
    const { transport, connection } = make();
    expect(connection.deliver(push('1-0', 1, { expiresAt: '2026-11-22T10:00:00.000Z' }), Date.parse('2026-11-22T10:00:01.000Z'))).toBeUndefined();
    expect(transport.frames).toEqual([]);
  });

  it('closes a slow consumer with 4503 instead of buffering past the bound, and reports it once', () => {
    const { transport, connection, slow } = make(300);
    let sent = 0;
    for (let i = 1; i <= 10; i++) if (connection.deliver(push(`${i}-0`, i), 0) !== undefined) sent++;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(10);
    expect(transport.closedWith).toEqual([CLOSE_CODES.slowConsumer, expect.stringContaining('slow consumer')]);
    expect(slow).toHaveLength(1);
    expect(connection.send({ type: 'pong' })).toBe(false);
  });

  it('runs queued work in order and coalesces pumps that have not started', async () => {
    const { connection } = make();
    const order: string[] = [];
    let release!: () => void;
    const first = connection.enqueue(() => new Promise<void>((resolve) => (release = () => (order.push('first'), resolve()))));
    let pumps = 0;
    const a = connection.enqueuePump(async () => void (pumps++, order.push('pump')));
    const b = connection.enqueuePump(async () => void (pumps++, order.push('pump')));
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await Promise.all([first, a, b]);
    expect(order).toEqual(['first', 'pump']);
    expect(pumps).toBe(1);
  });
});
