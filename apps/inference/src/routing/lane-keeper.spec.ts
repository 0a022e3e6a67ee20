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
  /** Lanes followed: `quietSince` undefined = not connected or holding messages. */
  readonly followed = new Map<number, { up: boolean; quietSince: number | undefined; stopped: boolean }>();
  followLane(lane: number) {
    const state = { up: true, quietSince: 0 as number | undefined, stopped: false };
    this.followed.set(lane, state);
    return { lane, isUp: () => state.up, quietSince: () => state.quietSince, stop: async () => void (state.stopped = true) };
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

  it('does not report (so cannot be chosen) until its lane receives; it only keeps the claim alive meanwhile', async () => {
    const { registry, transport, lanes } = keeper();
    const follow = transport.followLane.bind(transport);
    transport.followLane = (lane: number) => {
      const handle = follow(lane);
      transport.followed.get(lane)!.up = false;
      return handle;
    };
    await lanes.tick(0);
    await lanes.tick(2_000);
    expect(registry.calls.filter((call) => call.startsWith('report'))).toEqual([]);
    expect(registry.calls.filter((call) => call === 'claim')).toHaveLength(2); // the claim, then one refresh per later heartbeat
    transport.followed.get(3)!.up = true;
    await lanes.tick(4_000);
    expect(registry.calls).toContain('report busy=2');
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
    const lane7 = transport.followed.get(7)!;
    lane7.quietSince = 30_000; // it delivered what the dead worker held until then
    await lanes.tick(50_000);
    expect(lanes.draining).toBe(7);
    expect(registry.calls).toContain('renew 7');
    lane7.quietSince = undefined; // a long generation from the lane is still running
    await lanes.tick(90_000);
    expect(lanes.draining).toBe(7);
    lane7.quietSince = 90_000;
    await lanes.tick(129_999);
    expect(lanes.draining).toBe(7);
    await lanes.tick(130_000);
    await flush();
    expect(lanes.draining).toBeUndefined();
    expect(lane7.stopped).toBe(true);
    expect(registry.calls.at(-1)).toBe('finish 7');
  });

  it('never ends a drain it could not connect for, however long the broker is away', async () => {
    const { registry, transport, lanes } = keeper();
    registry.orphan = 7;
    await lanes.tick(0);
    transport.followed.get(7)!.quietSince = undefined;
    transport.followed.get(7)!.up = false;
    await lanes.tick(600_000);
    expect(lanes.draining).toBe(7);
    expect(registry.calls).not.toContain('finish 7');
  });

  it('stops heartbeating before it deregisters: a late heartbeat cannot bring it back to life', async () => {
    const { registry, lanes } = keeper();
    await lanes.tick(0);
    const slowReport = registry.report.bind(registry);
    let finishReport!: () => void;
    registry.report = async (report) => {
      await new Promise<void>((resolve) => (finishReport = resolve));
      return slowReport(report);
    };
    const inFlight = lanes.tick(2_000);
    await flush();
    const stopping = lanes.stop();
    finishReport();
    await Promise.all([inFlight, stopping]);
    expect(registry.calls.at(-1)).toBe('deregister');
    await lanes.tick(4_000);
    expect(registry.calls.at(-1)).toBe('deregister');
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
