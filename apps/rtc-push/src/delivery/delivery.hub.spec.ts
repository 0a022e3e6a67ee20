import type { ServerFrame } from '@aip/contracts';
import { jest } from '@jest/globals';
import { pino } from 'pino';
import type { FrameTransport } from './connection.ts';
import { DeliveryHub } from './delivery.hub.ts';
import type { InboxStore, StoredPush, UserRef } from './inbox.store.ts';
import type { PresenceStore } from './presence.store.ts';
import { RtcMetrics } from './rtc.metrics.ts';

class FakeTransport implements FrameTransport {
  readonly kind = 'ws' as const;
  readonly frames: ServerFrame[] = [];
  write(frame: ServerFrame) {
    this.frames.push(frame);
  }
  bufferedBytes() {
    return 0;
  }
  close() {}
}

const user: UserRef = { tenantId: 't', userId: 'u' };
const push = (id: string, seq: number): StoredPush => ({ id, seq, kind: 'notice', text: `push ${seq}`, time: '2026-11-22T10:00:00.000Z' });

function makeHub(inbox: Partial<InboxStore>, presence: Partial<PresenceStore> = {}) {
  const fullPresence = { mark: async () => undefined, remove: async () => undefined, ...presence } as unknown as PresenceStore;
  const options = { instanceId: 'i1', resendAfterMs: 1_000, maxBufferedBytes: 1 << 20, maxConnectionsPerUser: 1, presenceTtlMs: 30_000, sweepIntervalMs: 0 };
  return new DeliveryHub({ size: async () => 0, after: async () => [], ...inbox } as unknown as InboxStore, fullPresence, options, RtcMetrics.for(), pino({ level: 'silent' }));
}

describe('DeliveryHub.attach', () => {
  it('gives the connection slot back when Redis fails during attach, so the user is not locked out', async () => {
    let redisUp = false;
    const hub = makeHub({ size: async () => (redisUp ? 0 : Promise.reject(new Error('Connection is closed.'))) }, {
      mark: async () => (redisUp ? undefined : Promise.reject(new Error('Connection is closed.'))),
    });
    for (let i = 0; i < 3; i++) await expect(hub.attach(user, new FakeTransport())).rejects.toThrow('Connection is closed.');
    expect(hub.connectionCount).toBe(0);
    redisUp = true;
    await expect(hub.attach(user, new FakeTransport())).resolves.toMatchObject({ pending: 0 });
    expect(hub.connectionCount).toBe(1);
  });
});

describe('DeliveryHub re-sends', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('re-reads only the due pushes, not the whole inbox, and forgets those acked elsewhere', async () => {
    const stored = new Map([push('1-0', 1), push('2-0', 2)].map((p) => [p.id, p]));
    const asked: string[][] = [];
    const hub = makeHub({
      after: async (_user, afterId) => (afterId === '0-0' ? [...stored.values()] : []),
      get: async (_user, ids) => (asked.push([...ids]), ids.flatMap((id) => (stored.has(id) ? [stored.get(id)!] : []))),
      pending: () => Promise.reject(new Error('the whole inbox must not be read for a re-send')),
    });
    const transport = new FakeTransport();
    const { connection } = await hub.attach(user, transport);
    await hub.pump(connection);
    hub.start();
    stored.delete('1-0'); // acked on another tab
    await jest.advanceTimersByTimeAsync(1_250);
    expect(asked).toEqual([['1-0', '2-0']]);
    const pushes = () => transport.frames.flatMap((f) => (f.type === 'push' ? [[f.id, f.redelivery]] : []));
    expect(pushes()).toEqual([['1-0', 0], ['2-0', 0], ['2-0', 1]]);
    // Back-off: the second re-send of 2-0 comes 2 s after the first, and 1-0 is no longer asked for.
    await jest.advanceTimersByTimeAsync(1_500);
    expect(asked).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(asked.at(-1)).toEqual(['2-0']);
    expect(pushes().at(-1)).toEqual(['2-0', 2]);
    await hub.close(1001, 'test over');
  });
});
