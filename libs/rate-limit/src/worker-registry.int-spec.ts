import { useTestRedis } from '@aip/testing';
import { WorkerRegistry, type WorkerRegistryOptions, type WorkerReport } from './index.ts';

const suite = useTestRedis('aip:rl:it:');
let n = 0;

/** A fresh pool seen by two router replicas on separate connections. */
function registries(options: WorkerRegistryOptions = {}) {
  const pool = `p${++n}`;
  const { prefix } = suite;
  return { a: new WorkerRegistry(suite.redis, { prefix, pool, heartbeatTtlMs: 10_000, ...options }), b: new WorkerRegistry(suite.other, { prefix, pool, heartbeatTtlMs: 10_000, ...options }) };
}

const T = Date.now();
const LANES = 4;

/** A worker starting: it claims a lane, then reports. */
async function join(registry: WorkerRegistry, report: WorkerReport, nowMs: number) {
  await registry.claimLane(report.workerId, LANES, nowMs);
  return registry.report(report, nowMs);
}

describe('WorkerRegistry (real Redis)', () => {
  it('sums the free slots of live workers only', async () => {
    const { a, b } = registries();
    await a.report({ workerId: 'w1', slots: 8, busy: 3 }, T);
    await b.report({ workerId: 'w2', slots: 4, busy: 4 }, T);
    await a.report({ workerId: 'w3', slots: 2, busy: 5 }, T); // over-committed counts as 0 free, not -3
    expect(await b.liveCapacity(T)).toBe(5);
    await a.report({ workerId: 'w2', slots: 4, busy: 1 }, T + 9_000);
    // w1 and w3 stopped reporting: after their heartbeat TTL only w2 counts.
    expect(await a.liveCapacity(T + 10_000)).toBe(3);
    expect((await a.liveWorkers(T + 10_000)).map((worker) => worker.workerId)).toEqual(['w2']);
    await a.deregister('w2');
    expect(await a.liveCapacity(T + 10_000)).toBe(0);
  });

  it('returns nothing when no worker is alive', async () => {
    const { a } = registries();
    expect(await a.chooseWorker('s', { maxLoadGap: 2, nowMs: T })).toBeUndefined();
    await join(a, { workerId: 'w1', slots: 1, busy: 0 }, T);
    expect(await a.chooseWorker('s', { maxLoadGap: 2, nowMs: T + 10_000 })).toBeUndefined();
  });

  it('keeps a session on its worker across router replicas', async () => {
    const { a, b } = registries({ countAssignments: false });
    await join(a, { workerId: 'w1', slots: 8, busy: 2 }, T);
    await join(a, { workerId: 'w2', slots: 8, busy: 1 }, T);
    expect(await a.chooseWorker('s1', { maxLoadGap: 2, nowMs: T })).toEqual({ workerId: 'w2', reason: 'new', previousWorkerId: undefined, lane: 1 });
    await join(a, { workerId: 'w2', slots: 8, busy: 3 }, T + 1_000);
    // w2 is now busier than w1, but within the gap: the session's KV cache is worth more.
    expect(await b.chooseWorker('s1', { maxLoadGap: 2, nowMs: T + 1_000 })).toEqual({ workerId: 'w2', reason: 'sticky', previousWorkerId: 'w2', lane: 1 });
  });

  it('re-pins a session whose worker is much busier than the least loaded (balance guard)', async () => {
    const { a, b } = registries({ countAssignments: false });
    await join(a, { workerId: 'w1', slots: 8, busy: 0 }, T);
    await join(a, { workerId: 'w2', slots: 8, busy: 1 }, T);
    expect((await a.chooseWorker('s', { maxLoadGap: 2, nowMs: T }))?.workerId).toBe('w1');
    await join(a, { workerId: 'w1', slots: 8, busy: 4 }, T + 1_000);
    expect(await b.chooseWorker('s', { maxLoadGap: 2, nowMs: T + 1_000 })).toEqual({ workerId: 'w2', reason: 'rebalanced', previousWorkerId: 'w1', lane: 1 });
    // The new pin sticks.
    expect(await a.chooseWorker('s', { maxLoadGap: 2, nowMs: T + 1_000 })).toMatchObject({ workerId: 'w2', reason: 'sticky' });
  });

  it('moves a session off a full worker while another has a free slot, but keeps it when all are full', async () => {
    const { a } = registries({ countAssignments: false });
    await join(a, { workerId: 'w1', slots: 8, busy: 0 }, T);
    await join(a, { workerId: 'w2', slots: 8, busy: 1 }, T);
    expect((await a.chooseWorker('s', { maxLoadGap: 2, nowMs: T }))?.workerId).toBe('w1');
    await a.report({ workerId: 'w1', slots: 8, busy: 8 }, T + 1);
    await a.report({ workerId: 'w2', slots: 8, busy: 8 }, T + 1);
    expect(await a.chooseWorker('s', { maxLoadGap: 2, nowMs: T + 1 })).toMatchObject({ workerId: 'w1', reason: 'sticky' });
    await a.report({ workerId: 'w2', slots: 8, busy: 6 }, T + 2); // within the gap, but w2 has room and w1 none
    expect(await a.chooseWorker('s', { maxLoadGap: 2, nowMs: T + 2 })).toMatchObject({ workerId: 'w2', reason: 'rebalanced', previousWorkerId: 'w1' });
  });

  it('never chooses a worker that holds a lane but has not reported yet (its lane may not be read yet)', async () => {
    const { a } = registries();
    expect(await a.claimLane('w1', LANES, T)).toBe(0);
    expect(await a.chooseWorker('s', { maxLoadGap: 2, nowMs: T })).toBeUndefined();
    await a.report({ workerId: 'w1', slots: 4, busy: 0 }, T + 1);
    expect(await a.chooseWorker('s', { maxLoadGap: 2, nowMs: T + 1 })).toMatchObject({ workerId: 'w1', lane: 0 });
  });

  it('moves a session off a dead worker and stays on the new one', async () => {
    const { a } = registries({ countAssignments: false });
    await join(a, { workerId: 'w1', slots: 4, busy: 0 }, T);
    await join(a, { workerId: 'w2', slots: 4, busy: 3 }, T);
    expect((await a.chooseWorker('s', { maxLoadGap: 1, nowMs: T }))?.workerId).toBe('w1');
    // w1 crashes (no more heartbeats); w2 keeps reporting.
    await join(a, { workerId: 'w2', slots: 4, busy: 3 }, T + 8_000);
    expect(await a.chooseWorker('s', { maxLoadGap: 1, nowMs: T + 12_000 })).toEqual({ workerId: 'w2', reason: 'failover', previousWorkerId: 'w1', lane: 1 });
    // w1 comes back idle; with a gap of 3 the session stays on w2, where its cache now is.
    await join(a, { workerId: 'w1', slots: 4, busy: 0 }, T + 12_000);
    expect(await a.chooseWorker('s', { maxLoadGap: 3, nowMs: T + 12_000 })).toMatchObject({ workerId: 'w2', reason: 'sticky' });
  });

  it('gives one new session the same worker when two router replicas choose at once', async () => {
    const { a, b } = registries();
    for (const workerId of ['w1', 'w2', 'w3']) await join(a, { workerId, slots: 4, busy: 0 }, T);
    const [first, second] = await Promise.all([a.chooseWorker('same', { maxLoadGap: 1, nowMs: T }), b.chooseWorker('same', { maxLoadGap: 1, nowMs: T })]);
    expect(first!.workerId).toBe(second!.workerId);
    expect([first!.reason, second!.reason].sort()).toEqual(['new', 'sticky']);
  });

  it('breaks ties by free slots, then takes equally idle workers in turn', async () => {
    const { a } = registries({ countAssignments: false });
    await join(a, { workerId: 'w-b', slots: 4, busy: 1 }, T);
    await join(a, { workerId: 'w-a', slots: 4, busy: 1 }, T);
    await join(a, { workerId: 'w-c', slots: 16, busy: 1 }, T);
    expect((await a.chooseWorker('x', { maxLoadGap: 0, nowMs: T }))?.workerId).toBe('w-c');
    await join(a, { workerId: 'w-c', slots: 16, busy: 2 }, T);
    const next = await Promise.all(['y', 'z'].map(async (session) => (await a.chooseWorker(session, { maxLoadGap: 0, nowMs: T }))?.workerId));
    expect(next.sort()).toEqual(['w-a', 'w-b']);
  });

  it('spreads new sessions over idle workers even when each answer is over before the next session comes', async () => {
    // No assignment counting, as when every worker's heartbeat reports it idle again before the next choice.
    const { a, b } = registries({ countAssignments: false });
    for (const workerId of ['w1', 'w2', 'w3']) await join(a, { workerId, slots: 4, busy: 0 }, T);
    const chosen = [];
    for (let i = 0; i < 6; i++) chosen.push((await (i % 2 ? a : b).chooseWorker(`idle-${i}`, { maxLoadGap: 1, nowMs: T }))!.workerId);
    expect(new Set(chosen.slice(0, 3)).size).toBe(3);
    expect(new Set(chosen.slice(3)).size).toBe(3);
    // A session already placed stays where it is.
    expect((await a.chooseWorker('idle-0', { maxLoadGap: 1, nowMs: T }))).toMatchObject({ workerId: chosen[0], reason: 'sticky' });
  });

  it('spreads a burst of new sessions between heartbeats instead of piling them on one worker', async () => {
    const { a, b } = registries();
    for (const workerId of ['w1', 'w2', 'w3']) await join(a, { workerId, slots: 4, busy: 0 }, T);
    const choices = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).chooseWorker(`s${i}`, { maxLoadGap: 1, assignmentId: `t${i}`, nowMs: T })));
    const perWorker = new Map<string, number>();
    for (const choice of choices) perWorker.set(choice!.workerId, (perWorker.get(choice!.workerId) ?? 0) + 1);
    expect([...perWorker.values()]).toEqual([2, 2, 2]);
    expect(await a.liveCapacity(T)).toBe(6);
    // A request its worker has taken is covered by the worker's own report from then on.
    await b.taken(choices[0]!.workerId, 't0');
    expect(await a.liveCapacity(T)).toBe(7);
    // A heartbeat does not forget requests routed to a worker that has not taken them yet.
    await join(a, { workerId: 'w1', slots: 4, busy: 0 }, T + 1);
    expect(await a.liveCapacity(T + 1)).toBe(7);
    // One never taken (its worker died with it in the lane) stops counting after a heartbeat TTL.
    for (const workerId of ['w1', 'w2', 'w3']) await join(a, { workerId, slots: 4, busy: 0 }, T + 10_001);
    expect(await a.liveCapacity(T + 10_001)).toBe(12);
  });

  it('keeps a session on its warm worker through many short turns between two heartbeats', async () => {
    // Each turn is taken and answered long before the next heartbeat. When every choice counted as
    // load until that heartbeat, the fourth turn found its worker "3 busier" and moved the session
    // to a cold worker, and a full pool of phantom load made the capacity check refuse.
    const { a } = registries();
    for (const workerId of ['w1', 'w2', 'w3']) await join(a, { workerId, slots: 4, busy: 0 }, T);
    const choices = [];
    for (let turn = 0; turn < 10; turn++) {
      const choice = (await a.chooseWorker('chatty', { maxLoadGap: 2, assignmentId: `turn-${turn}`, nowMs: T }))!;
      choices.push(choice);
      await a.taken(choice.workerId, `turn-${turn}`);
    }
    expect(new Set(choices.map((c) => c.workerId)).size).toBe(1);
    expect(choices.slice(1).map((c) => c.reason)).toEqual(Array(9).fill('sticky'));
    expect(await a.liveCapacity(T)).toBe(12);
  });

  it('gives each live worker its own lane, keeps it across heartbeats, and hands a dead owner\'s lane to a newcomer', async () => {
    const { a, b } = registries();
    expect(await a.claimLane('w1', 2, T)).toBe(0);
    expect(await b.claimLane('w2', 2, T)).toBe(1);
    expect(await a.claimLane('w1', 2, T)).toBe(0);
    expect(await a.report({ workerId: 'w1', slots: 4, busy: 0 }, T)).toBe(0);
    expect(await a.report({ workerId: 'w2', slots: 4, busy: 0 }, T)).toBe(1);
    // Every lane has a live owner: a third worker serves the shared group only, and is never chosen.
    expect(await a.claimLane('w3', 2, T)).toBeUndefined();
    await a.report({ workerId: 'w3', slots: 64, busy: 0 }, T);
    expect((await a.chooseWorker('s', { maxLoadGap: 0, nowMs: T }))?.workerId).not.toBe('w3');
    // w1 dies; w3 takes its lane (and whatever was queued there).
    await a.report({ workerId: 'w2', slots: 4, busy: 0 }, T + 9_000);
    await a.report({ workerId: 'w3', slots: 64, busy: 0 }, T + 9_000);
    expect(await a.claimLane('w3', 2, T + 11_000)).toBe(0);
    // w1 comes back from a long pause: its heartbeat tells it the lane is gone.
    expect(await a.report({ workerId: 'w1', slots: 4, busy: 0 }, T + 11_000)).toBeUndefined();
  });

  it('lets exactly one live worker drain an orphaned lane until it is empty or owned again', async () => {
    const { a, b } = registries();
    await join(a, { workerId: 'w1', slots: 4, busy: 0 }, T);
    await join(a, { workerId: 'w2', slots: 4, busy: 0 }, T);
    await join(a, { workerId: 'w3', slots: 4, busy: 0 }, T);
    expect(await a.drainLane('w2', 5_000, undefined, T)).toBeUndefined(); // nothing orphaned
    // w1 (lane 0) leaves gracefully: its lane is drainable at once, by one worker only.
    await a.deregister('w1');
    const [first, second] = await Promise.all([a.drainLane('w2', 5_000, undefined, T + 1), b.drainLane('w3', 5_000, undefined, T + 1)]);
    expect([first, second].sort()).toEqual([0, undefined]);
    const drainer = first === 0 ? 'w2' : 'w3';
    const other = drainer === 'w2' ? 'w3' : 'w2';
    expect(await a.drainLane(drainer, 5_000, 0, T + 2_000)).toBe(0); // renewed
    expect(await a.drainLane(other, 5_000, 0, T + 2_000)).toBeUndefined(); // not its drain
    // The drainer stalls past its drain lease: the other may take over.
    expect(await b.drainLane(other, 5_000, undefined, T + 8_000)).toBe(0);
    await b.finishDrain(other, 0, T + 8_001);
    // Empty: the lane is free, no longer an orphan, and the next worker claims it.
    expect(await a.drainLane(drainer, 5_000, undefined, T + 8_002)).toBeUndefined();
    expect(await a.claimLane('w4', LANES, T + 8_003)).toBe(0);
    // A drain ends when a live worker owns the lane again.
    await a.report({ workerId: 'w4', slots: 4, busy: 0 }, T + 8_003);
    await a.deregister('w4');
    expect(await a.drainLane('w2', 5_000, undefined, T + 8_004)).toBe(0);
    expect(await a.claimLane('w5', LANES, T + 8_005)).toBe(0);
    await a.report({ workerId: 'w5', slots: 4, busy: 0 }, T + 8_005);
    expect(await a.drainLane('w2', 5_000, 0, T + 8_006)).toBeUndefined();
  });
});
