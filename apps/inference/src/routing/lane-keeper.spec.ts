import { pino } from 'pino';
import { LaneKeeper, type LaneRegistry, type LaneTransport } from './lane-keeper.ts';

/** Registry behaviour is tested on real Redis in libs/rate-limit; here it is scripted per case. */
class ScriptedRegistry implements LaneRegistry {
  owned: number | undefined;
  claimable: number | undefined = 3;
  orphan: number | undefined;
  renewals = true;
  down = false;
  readonly calls: string[] = [];
  async claimLane() { this.guard('claim'); this.owned = this.claimable; return this.claimable; }
  async report(report: { busy: number }) { this.guard(`report busy=${report.busy}`); return this.owned; }
  async drainLane(_: string, __: number, lane?: number) {
    this.guard(lane === undefined ? 'drain' : `renew ${lane}`);
    return lane === undefined ? this.orphan : this.renewals ? lane : undefined;
  }
  async finishDrain(_: string, lane: number) { this.guard(`finish ${lane}`); }
  async deregister() { this.guard('deregister'); }
  private guard(call: string) {
    if (this.down) throw new Error('Redis unavailable');
    this.calls.push(call);
  }
}

class FakeTransport implements LaneTransport {
  readonly lanes = 32;
  inFlight = 2;
  readonly followed = new Map<number, { lastReceived: number; stopped: boolean }>();
  followLane(lane: number) {
    const state = { lastReceived: 0, stopped: false };
    this.followed.set(lane, state);
    return { lane, lastReceivedAt: () => state.lastReceived, stop: async () => void (state.stopped = true) };
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

function keeper() {
  const registry = new ScriptedRegistry();
  const transport = new FakeTransport();
  const lanes = new LaneKeeper(registry, transport, { workerId: 'w1', slots: 8, quietMs: 40_000, drainMs: 10_000, logger: pino({ level: 'silent' }) });
  return { registry, transport, lanes };
}

describe('LaneKeeper', () => {
  it('follows its lane before its first heartbeat, so nothing routed to it can arrive unheard', async () => {
    const { registry, transport, lanes } = keeper();
    await lanes.tick(0);
    expect(registry.calls.slice(0, 2)).toEqual(['claim', 'report busy=2']);
    expect(transport.followed.has(3)).toBe(true);
    expect(lanes.lane).toBe(3);
    await lanes.tick(2_000);
    expect(registry.calls.filter((call) => call === 'claim')).toHaveLength(1);
  });

  it('lets its lane go when another worker took it over during a pause, and claims another', async () => {
    const { registry, transport, lanes } = keeper();
    await lanes.tick(0);
    registry.owned = undefined; // the heartbeat says: no longer yours
    await lanes.tick(2_000);
    await flush();
    expect(transport.followed.get(3)?.stopped).toBe(true);
    expect(lanes.lane).toBeUndefined();
    registry.claimable = 5;
    await lanes.tick(4_000);
    expect(lanes.lane).toBe(5);
  });

  it('drains an orphaned lane while it delivers, then frees it once quiet for longer than a lease', async () => {
    const { registry, transport, lanes } = keeper();
    registry.orphan = 7;
    await lanes.tick(0);
    expect(lanes.draining).toBe(7);
    registry.orphan = undefined;
    transport.followed.get(7)!.lastReceived = 30_000; // still delivering what the dead worker held
    await lanes.tick(50_000);
    expect(lanes.draining).toBe(7);
    expect(registry.calls).toContain('renew 7');
    await lanes.tick(70_001);
    await flush();
    expect(lanes.draining).toBeUndefined();
    expect(transport.followed.get(7)?.stopped).toBe(true);
    expect(registry.calls.at(-1)).toBe('finish 7');
  });

  it('hands a drain over when the lane has a live owner again', async () => {
    const { registry, transport, lanes } = keeper();
    registry.orphan = 7;
    await lanes.tick(0);
    registry.renewals = false;
    await lanes.tick(2_000);
    await flush();
    expect(lanes.draining).toBeUndefined();
    expect(transport.followed.get(7)?.stopped).toBe(true);
    expect(registry.calls).not.toContain('finish 7');
  });

  it('survives a Redis outage: the tick fails quietly and the next one catches up', async () => {
    const { registry, lanes } = keeper();
    registry.down = true;
    await expect(lanes.tick(0)).resolves.toBeUndefined();
    expect(lanes.lane).toBeUndefined();
    registry.down = false;
    await lanes.tick(2_000);
    expect(lanes.lane).toBe(3);
  });
});
