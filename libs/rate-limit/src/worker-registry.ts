import type { Redis } from 'ioredis';
import { CHOOSE_LUA, CLAIM_LANE_LUA, DEREGISTER_LUA, DRAIN_LANE_LUA, FINISH_DRAIN_LUA, LIVE_LUA, REPORT_LUA } from './worker-registry.lua.ts';
import { assertId, assertTime, defineScript, replyArray, replyNumber, replyString, type ScriptCall } from './redis-script.ts';

export interface WorkerReport {
  workerId: string;
  /** Requests the worker can run at once. */
  slots: number;
  /** Requests it is running now. */
  busy: number;
}

export interface LiveWorker extends WorkerReport {
  free: number;
}

export type WorkerChoiceReason = 'sticky' | 'new' | 'rebalanced' | 'failover';

export interface WorkerChoice {
  workerId: string;
  /**
   * sticky: the session's worker again; new: the session had no pin; rebalanced: its worker was
   * more than maxLoadGap busier than the least loaded, or full while another had a free slot;
   * failover: its worker's heartbeat stopped, or it no longer holds a lane.
   */
  reason: WorkerChoiceReason;
  /** The worker the session was pinned to before, if any. */
  previousWorkerId: string | undefined;
  /** The chosen worker's lane: publish the request to it (EventPublisher `{ lane }`). */
  lane: number;
}

export interface ChooseWorkerOptions {
  /** How much busier than the least-loaded live worker the session's worker may be and keep it. */
  maxLoadGap: number;
  /**
   * The request being routed (its task id): counted as the chosen worker's load until the worker
   * reports it `taken`. Without one the choice is not counted.
   */
  assignmentId?: string;
  nowMs?: number;
}

export interface WorkerRegistryOptions {
  /** Prefix of every key, e.g. "aip:rl:". */
  prefix?: string;
  /** Worker pool (e.g. per model); each pool is one Redis hash tag. */
  pool?: string;
  /** A worker counts as alive this long after its last report. Default 10 s. */
  heartbeatTtlMs?: number;
  /** An idle session forgets its worker after this. Default 30 min. */
  pinTtlMs?: number;
  /**
   * Count each choice as the chosen worker's load until the worker takes the request (`taken`) or a
   * heartbeat TTL passes. Default true: without it, every choice between two heartbeats sees the
   * same "least loaded" worker.
   */
  countAssignments?: boolean;
}

const REASONS: readonly WorkerChoiceReason[] = ['sticky', 'new', 'rebalanced', 'failover'];

/**
 * Live inference workers and session affinity, shared in Redis so every router replica sees the
 * same picture and a router restart loses nothing. Workers report { slots, busy } as a heartbeat;
 * one that stops reporting drops out after heartbeatTtlMs, and its sessions move on their next
 * request.
 */
export class WorkerRegistry {
  private readonly keys: readonly [alive: string, slots: string, busy: string, owners: string, drains: string, drainers: string, assigned: string];
  private readonly tag: string;
  private readonly heartbeatTtlMs: number;
  private readonly pinTtlMs: number;
  private readonly countAssignments: boolean;
  private readonly reportScript: ScriptCall;
  private readonly liveScript: ScriptCall;
  private readonly chooseScript: ScriptCall;
  private readonly deregisterScript: ScriptCall;
  private readonly claimLaneScript: ScriptCall;
  private readonly drainLaneScript: ScriptCall;
  private readonly finishDrainScript: ScriptCall;

  private readonly redis: Redis;

  constructor(redis: Redis, options: WorkerRegistryOptions = {}) {
    this.redis = redis;
    const pool = options.pool ?? 'default';
    assertId('pool', pool);
    this.tag = `${options.prefix ?? 'aip:rl:'}{w:${pool}}`;
    this.keys = [`${this.tag}:alive`, `${this.tag}:slots`, `${this.tag}:busy`, `${this.tag}:lanes`, `${this.tag}:drains`, `${this.tag}:drainers`, `${this.tag}:assigned`];
    this.heartbeatTtlMs = options.heartbeatTtlMs ?? 10_000;
    this.pinTtlMs = options.pinTtlMs ?? 30 * 60_000;
    this.countAssignments = options.countAssignments ?? true;
    if (!Number.isSafeInteger(this.heartbeatTtlMs) || this.heartbeatTtlMs <= 0) throw new RangeError(`heartbeatTtlMs must be a positive integer, got ${this.heartbeatTtlMs}`);
    if (!Number.isSafeInteger(this.pinTtlMs) || this.pinTtlMs <= 0) throw new RangeError(`pinTtlMs must be a positive integer, got ${this.pinTtlMs}`);
    this.reportScript = defineScript(redis, 'aipRlWorkerReport', 7, REPORT_LUA);
    this.liveScript = defineScript(redis, 'aipRlWorkerLive', 7, LIVE_LUA);
    this.chooseScript = defineScript(redis, 'aipRlWorkerChoose', 9, CHOOSE_LUA);
    this.deregisterScript = defineScript(redis, 'aipRlWorkerDeregister', 7, DEREGISTER_LUA);
    this.claimLaneScript = defineScript(redis, 'aipRlWorkerClaimLane', 7, CLAIM_LANE_LUA);
    this.drainLaneScript = defineScript(redis, 'aipRlWorkerDrainLane', 7, DRAIN_LANE_LUA);
    this.finishDrainScript = defineScript(redis, 'aipRlWorkerFinishDrain', 7, FINISH_DRAIN_LUA);
  }

  /**
   * Heartbeat: call at least every heartbeatTtlMs (e.g. every third of it) and on every change.
   * Resolves to the lane the worker owns, or undefined when it owns none (never claimed, or taken
   * over while its heartbeat had lapsed: claim again).
   */
  async report(report: WorkerReport, nowMs?: number): Promise<number | undefined> {
    assertId('workerId', report.workerId);
    assertTime('nowMs', nowMs);
    if (!Number.isSafeInteger(report.slots) || report.slots < 0) throw new RangeError(`slots must be a non-negative integer, got ${report.slots}`);
    if (!Number.isSafeInteger(report.busy) || report.busy < 0) throw new RangeError(`busy must be a non-negative integer, got ${report.busy}`);
    return laneOf(await this.reportScript(...this.keys, nowMs ?? '', this.heartbeatTtlMs, report.workerId, report.slots, report.busy));
  }

  /**
   * Claims a lane for the worker among `lanes` (the consumer group's lane count): the one it owns
   * already, else a free one or one whose owner died — whatever was queued there is now this
   * worker's. Undefined when every lane has a live owner: the worker then serves the shared group
   * only and is never chosen for a session.
   */
  async claimLane(workerId: string, lanes: number, nowMs?: number): Promise<number | undefined> {
    assertId('workerId', workerId);
    assertTime('nowMs', nowMs);
    if (!Number.isSafeInteger(lanes) || lanes < 1) throw new RangeError(`lanes must be a positive integer, got ${lanes}`);
    return laneOf(await this.claimLaneScript(...this.keys, nowMs ?? '', workerId, lanes, this.heartbeatTtlMs));
  }

  /**
   * An orphaned lane (its owner died or left) for this worker to empty, held for `drainMs`; or,
   * with `lane`, renews that drain. Undefined when there is nothing to drain, or (renewal) when the
   * drain is over because a live worker owns the lane again.
   */
  async drainLane(workerId: string, drainMs: number, lane?: number, nowMs?: number): Promise<number | undefined> {
    assertId('workerId', workerId);
    assertTime('nowMs', nowMs);
    if (!Number.isSafeInteger(drainMs) || drainMs <= 0) throw new RangeError(`drainMs must be a positive integer, got ${drainMs}`);
    return laneOf(await this.drainLaneScript(...this.keys, nowMs ?? '', workerId, drainMs, lane ?? ''));
  }

  /** The orphaned lane is empty: it becomes free for the next worker to claim. */
  async finishDrain(workerId: string, lane: number, nowMs?: number): Promise<void> {
    assertId('workerId', workerId);
    assertTime('nowMs', nowMs);
    await this.finishDrainScript(...this.keys, nowMs ?? '', workerId, lane);
  }

  /**
   * The worker has taken a request routed to it (`assignmentId` as given to chooseWorker): it no
   * longer counts as load on top of the worker's own report. Any worker may call it — one draining
   * a dead worker's lane too — with the worker the request was routed to.
   */
  async taken(workerId: string, assignmentId: string): Promise<void> {
    await this.redis.zrem(this.keys[6], `${workerId} ${assignmentId}`);
  }

  /** Graceful shutdown: stop routing to this worker now rather than after its heartbeat expires. */
  async deregister(workerId: string): Promise<void> {
    assertId('workerId', workerId);
    await this.deregisterScript(...this.keys, workerId);
  }

  async liveWorkers(nowMs?: number): Promise<LiveWorker[]> {
    assertTime('nowMs', nowMs);
    const flat = replyArray(await this.liveScript(...this.keys, nowMs ?? ''), 'liveWorkers');
    const workers: LiveWorker[] = [];
    for (let offset = 0; offset < flat.length; offset += 3) {
      const slots = replyNumber(flat[offset + 1], 'worker slots');
      const busy = replyNumber(flat[offset + 2], 'worker busy');
      workers.push({ workerId: replyString(flat[offset], 'worker id'), slots, busy, free: Math.max(0, slots - busy) });
    }
    return workers;
  }

  /** Free slots across live workers: what AdmissionControl.admit takes as `capacity`. */
  async liveCapacity(nowMs?: number): Promise<number> {
    return (await this.liveWorkers(nowMs)).reduce((sum, worker) => sum + worker.free, 0);
  }

  /** The worker for this session's next request, recorded as its pin; undefined when no live worker holds a lane. */
  async chooseWorker(sessionId: string, options: ChooseWorkerOptions): Promise<WorkerChoice | undefined> {
    assertId('sessionId', sessionId);
    assertTime('nowMs', options.nowMs);
    if (!Number.isFinite(options.maxLoadGap) || options.maxLoadGap < 0) throw new RangeError(`maxLoadGap must be a non-negative number, got ${options.maxLoadGap}`);
    const reply = await this.chooseScript(
      ...this.keys, `${this.tag}:pin:${sessionId}`, `${this.tag}:turn`,
      options.nowMs ?? '', options.maxLoadGap, this.pinTtlMs, this.countAssignments ? (options.assignmentId ?? '') : '', this.heartbeatTtlMs,
    );
    if (reply === null) return undefined;
    const [workerId, reason, previous, lane] = replyArray(reply, 'chooseWorker');
    const why = replyString(reason, 'choice reason');
    if (!REASONS.includes(why as WorkerChoiceReason)) throw new Error(`unexpected choice reason ${why}`);
    const previousWorkerId = replyString(previous, 'previous worker');
    return {
      workerId: replyString(workerId, 'chosen worker'),
      reason: why as WorkerChoiceReason,
      previousWorkerId: previousWorkerId === '' ? undefined : previousWorkerId,
      lane: replyNumber(lane, 'lane'),
    };
  }
}

function laneOf(reply: unknown): number | undefined {
  const lane = replyNumber(reply, 'lane');
  return lane < 0 ? undefined : lane;
}
