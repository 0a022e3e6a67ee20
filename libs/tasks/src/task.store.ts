import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TERMINAL_STATUSES, taskEventSchema, type Task, type TaskEvent, type TaskStatus } from './task.schema.ts';

export interface TaskStoreOptions {
  /** Key prefix, e.g. "aip:". */
  prefix?: string;
  /** Lifetime of a task and its event stream after the last write. */
  ttlMs?: number;
  /** Approximate cap of one task's event stream. */
  maxEvents?: number;
}

export interface StoredEvent {
  /** The Redis stream id: the SSE `id:` a client resumes from. */
  id: string;
  event: TaskEvent;
}

const JSON_FIELDS = new Set(['usage', 'sources', 'error', 'toolCalls']);
/**
 * Bookkeeping of runs (which run writes the task now, its last batch, who ended it, until when its
 * worker counts as alive, the limiter's reservation it holds): never part of a Task.
 */
const RUN_FIELDS = new Set(['_run', '_runs', '_seq', '_end', '_alive', '_reservation']);
const IS_TERMINAL = `local s = redis.call('HGET', KEYS[1], 'status')
local ended = ${TERMINAL_STATUSES.map((status) => `s == '${status}'`).join(' or ')}`;
const xadd = (event: string) => `redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'e', ${event})`;
const RENEW = `redis.call('PEXPIRE', KEYS[1], ARGV[2]) redis.call('PEXPIRE', KEYS[2], ARGV[2])`;
// Liveness is judged on Redis's clock, never a worker's: workers' clocks drift apart, and a sweeper
// running ahead of a worker by a few seconds would end that worker's live runs. `arg` overrides
// it (tests step into the future).
const CLOCK = `local function clock(arg)
  local injected = tonumber(arg)
  if injected then return injected end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

// Every script: KEYS[1] the task hash, KEYS[2] its events stream; ARGV[1] a token, ARGV[2] the
// lifetime (ms), ARGV[3] the stream cap. Each is safe to run twice: ioredis sends a command again
// when a dropped connection lost its reply, and Redis may already have carried it out (found by
// the chaos suite: an answer with every delta twice after a Redis restart).

// ARGV[4] the restart event, ARGV[5] the running event, ARGV[6] how long the run counts as alive
// without a heartbeat (ms, '' = no liveness), ARGV[7..] fields. The run becomes the task's one writer; an earlier run's output is cut off by a restart event (clients drop it). A run
// that was taken over never comes back: its begin, resent by ioredis once Redis was back after an
// outage, took the task from the run that replaced it (found by the chaos suite).
const BEGIN_RUN_LUA = `${IS_TERMINAL}
${CLOCK}
if ended or redis.call('EXISTS', KEYS[1]) == 0 then return 'ended' end
local previous = redis.call('HGET', KEYS[1], '_run')
if previous == ARGV[1] then return 'begun' end
local runs = redis.call('HGET', KEYS[1], '_runs') or ''
if string.find(runs, ARGV[1], 1, true) then return 'ended' end
redis.call('HSET', KEYS[1], '_run', ARGV[1], '_runs', runs .. ' ' .. ARGV[1], '_seq', '0', unpack(ARGV, 7))
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], '_alive', clock('') + tonumber(ARGV[6])) end
if previous then ${xadd('ARGV[4]')} end
${xadd('ARGV[5]')}
${RENEW}
return 'begun'`;

// ARGV[4] the batch's sequence number in its run, ARGV[5..] events. Refused unless the run is
// still the task's writer; a batch already written (same sequence number) is not written again.
const APPEND_RUN_LUA = `${IS_TERMINAL}
if ended then return 'ended' end
if redis.call('HGET', KEYS[1], '_run') ~= ARGV[1] then return 'superseded' end
if tonumber(redis.call('HGET', KEYS[1], '_seq') or '0') >= tonumber(ARGV[4]) then return 'written' end
for i = 5, #ARGV do ${xadd('ARGV[i]')} end
redis.call('HSET', KEYS[1], '_seq', ARGV[4])
${RENEW}
return 'written'`;

// ARGV[4] how long the run counts as alive from now (ms), ARGV[5] now ('' = Redis's clock).
// Refused (0) unless the run is still the task's writer; else its alive-until.
const HEARTBEAT_LUA = `${IS_TERMINAL}
${CLOCK}
if ended or redis.call('HGET', KEYS[1], '_run') ~= ARGV[1] then return 0 end
local alive = clock(ARGV[5]) + tonumber(ARGV[4])
redis.call('HSET', KEYS[1], '_alive', alive)
return alive`;

// ARGV[4] now ('' = Redis's clock), ARGV[5] the final event, ARGV[6..] fields. Ends a running task
// whose run's worker went silent past its alive-until: nobody else would (its message was
// dead-lettered, or the broker lost it). Returns {outcome, alive-until | tenant, key, model,
// reservation, attempt, worker}.
const ORPHAN_LUA = `${IS_TERMINAL}
${CLOCK}
if ended or redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
local alive = redis.call('HGET', KEYS[1], '_alive')
if not alive then return {'gone'} end
if tonumber(alive) > clock(ARGV[4]) then return {'alive', alive} end
redis.call('HSET', KEYS[1], '_end', ARGV[1], unpack(ARGV, 6))
${xadd('ARGV[5]')}
${RENEW}
local f = redis.call('HMGET', KEYS[1], 'tenantId', 'keyId', 'model', '_reservation', 'attempt', 'workerId')
return {'ended', f[1] or '', f[2] or '', f[3] or '', f[4] or '', f[5] or '', f[6] or ''}`;

// ARGV[1] this call's token, ARGV[4] the run that must still be the writer ('' = any), ARGV[5] the
// final event, ARGV[6..] fields. The terminal status and the final event in one step: written one
// after the other, a fault between them (a Redis restart, found by the chaos suite) left a task
// `completed` with no final event, and every follower waited for ever.
const FINISH_LUA = `${IS_TERMINAL}
if ended then return redis.call('HGET', KEYS[1], '_end') == ARGV[1] and 1 or 0 end
if ARGV[4] ~= '' and redis.call('HGET', KEYS[1], '_run') ~= ARGV[4] then return -1 end
redis.call('HSET', KEYS[1], '_end', ARGV[1], unpack(ARGV, 6))
${xadd('ARGV[5]')}
${RENEW}
return 1`;

/**
 * A run wrote to a task it no longer owns: another delivery of the request took the task over
 * (its output replaces this run's), or the task ended. The run must stop.
 */
export class StaleRunError extends Error {
  constructor(
    readonly taskId: string,
    readonly reason: 'superseded' | 'ended',
  ) {
    super(`task ${taskId}: ${reason === 'ended' ? 'already ended' : 'taken over by another run'}`);
    this.name = 'StaleRunError';
  }
}

/**
 * How a run shows its worker is alive: each heartbeat extends its alive-until by `ttlMs`; a run
 * silent past alive-until + `graceMs` is orphaned and may be ended by anyone (`endOrphanedRuns`).
 * The grace is 0 on a delivery the broker will not repeat (its last: the message is dead-lettered
 * when the worker dies), else long enough for a redelivery to begin a new run first.
 */
export interface RunLiveness {
  ttlMs: number;
  graceMs: number;
}

/** A run ended because its worker went silent: what the limiter needs to give its reservation back. */
export interface OrphanedRun {
  taskId: string;
  tenantId: string;
  keyId: string;
  model: string;
  reservationId?: string;
  attempt?: number;
  workerId?: string;
}

/** The key's limits as admission left them (`running` event). */
export type RunningLimits = NonNullable<Extract<TaskEvent, { type: 'status' }>['limits']>;

/** One delivery's work on a task: the only writer of its output until another run begins. */
export class TaskRun {
  private seq = 0;

  constructor(
    private readonly store: TaskStore,
    readonly taskId: string,
    readonly token: string,
    private readonly liveness?: RunLiveness,
  ) {}

  /**
   * Tells the store this run's worker is alive (call it well within `ttlMs`); false when the run
   * no longer owns the task. A no-op for a run begun without liveness.
   */
  async heartbeat(now?: number): Promise<boolean> {
    if (!this.liveness) return true;
    return this.store.markAlive(this.taskId, this.token, this.liveness.ttlMs + this.liveness.graceMs, now);
  }

  /** Writes events, in order, or throws StaleRunError when this run no longer owns the task. */
  async append(events: TaskEvent[]): Promise<void> {
    if (events.length === 0) return;
    const outcome = await this.store.runScript(APPEND_RUN_LUA, this.taskId, this.token, [String(++this.seq), ...events.map((event) => JSON.stringify(event))]);
    if (outcome !== 'written') throw new StaleRunError(this.taskId, outcome as StaleRunError['reason']);
  }

  /** Ends the task (status, fields and final event at once); false when it had already ended. */
  async finish(status: TaskStatus, fields: Partial<Task>, event: TaskEvent): Promise<boolean> {
    const ended = await this.store.finish(this.taskId, status, fields, event, this.token);
    if (this.liveness) await this.store.forgetRunning(this.taskId);
    return ended;
  }
}
const NUMBER_FIELDS = new Set(['createdAt', 'startedAt', 'firstTokenAt', 'finishedAt', 'attempt']);

/** How long a task (its record, events and claim-checked images) is kept by default. */
export const TASK_TTL_MS = 24 * 3_600_000;

/**
 * The task model shared by access (create, read, relay), rate-limiter (reject) and inference
 * (deltas, result): `task:{id}` hash + `task:{id}:events` stream. One model serves polling,
 * SSE and WebSocket.
 */
export class TaskStore {
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly maxEvents: number;

  constructor(
    private readonly redis: Redis,
    options: TaskStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? '';
    this.ttlMs = options.ttlMs ?? TASK_TTL_MS;
    this.maxEvents = options.maxEvents ?? 10_000;
  }

  private taskKey(id: string) {
    return `${this.prefix}task:{${id}}`;
  }

  private eventsKey(id: string) {
    return `${this.prefix}task:{${id}}:events`;
  }

  private cancelKey(id: string) {
    return `${this.prefix}task:{${id}}:cancel`;
  }

  /** Running tasks whose run has liveness: zset task id -> alive-until (ms). Only an index: the task's `_alive` decides. */
  private runningKey() {
    return `${this.prefix}tasks:running`;
  }

  async create(task: Pick<Task, 'id' | 'tenantId' | 'keyId' | 'model' | 'stream'> & { sessionId?: string }): Promise<Task> {
    const record: Task = { ...task, status: 'queued', createdAt: Date.now() };
    succeeded(await this.redis.multi().hset(this.taskKey(task.id), serialise(record)).pexpire(this.taskKey(task.id), this.ttlMs).exec());
    return record;
  }

  /**
   * Erases a task: its record, result and events (its conversation was deleted). A worker still
   * running it finds its run superseded and stops writing; a reader finds no such task.
   */
  async erase(id: string): Promise<void> {
    await this.redis.del(this.taskKey(id), this.eventsKey(id), this.cancelKey(id));
    await this.redis.zrem(this.runningKey(), id);
  }

  async get(id: string): Promise<Task | undefined> {
    const raw = await this.redis.hgetall(this.taskKey(id));
    return raw['id'] ? deserialise(raw) : undefined;
  }

  /** A tenant sees only its own tasks: another tenant's task does not exist for it. */
  async getForTenant(id: string, tenantId: string): Promise<Task | undefined> {
    const task = await this.get(id);
    return task?.tenantId === tenantId ? task : undefined;
  }

  /**
   * Moves a task to a terminal status once: false when it already was terminal. With `run`, only
   * while that run is still the task's writer (else StaleRunError).
   */
  async finish(id: string, status: TaskStatus, fields: Partial<Task>, event: TaskEvent, run = ''): Promise<boolean> {
    const outcome = await this.runScript(FINISH_LUA, id, randomUUID(), [run, JSON.stringify(event), ...Object.entries(serialise({ ...fields, status, finishedAt: Date.now() })).flat()]);
    if (outcome === -1) throw new StaleRunError(id, 'superseded');
    return outcome === 1;
  }

  /**
   * Makes a new run the one writer of the task's output (a `running` status event, preceded by a
   * `restart` event when an earlier run had begun). Undefined when the task has ended or expired.
   * `token` names the run; a repeat with the same token is the same run. With `liveness`, the run
   * must send heartbeats, or `endOrphanedRuns` ends the task once the run is orphaned. `limits`
   * (the key's limits as admission left them) ride on the `running` event, for the answer's headers.
   */
  async beginRun(
    id: string,
    fields: Partial<Task> & { attempt: number },
    options: { token?: string; liveness?: RunLiveness; reservationId?: string; limits?: RunningLimits } = {},
  ): Promise<TaskRun | undefined> {
    const { token = randomUUID(), liveness, reservationId, limits } = options;
    const restart: TaskEvent = { type: 'restart', attempt: fields.attempt };
    const running: TaskEvent = { type: 'status', status: 'running', ...(limits ? { limits } : {}) };
    const aliveMs = liveness ? liveness.ttlMs + liveness.graceMs : undefined;
    // The index first: a worker that dies right after its run began must still be found. Its score
    // is only where the sweep starts looking (this worker's clock); the task's `_alive` decides.
    if (aliveMs !== undefined) await this.redis.zadd(this.runningKey(), Date.now() + aliveMs, id);
    const bookkeeping = reservationId ? ['_reservation', reservationId] : [];
    const outcome = await this.runScript(BEGIN_RUN_LUA, id, token, [JSON.stringify(restart), JSON.stringify(running), aliveMs === undefined ? '' : String(aliveMs), ...Object.entries(serialise({ ...fields, status: 'running' })).flat(), ...bookkeeping]);
    if (outcome !== 'begun') return undefined;
    return new TaskRun(this, id, token, liveness);
  }

  /**
   * @internal Drops an ended task from the index of running ones (a key of its own, in another
   * slot of a cluster, so not in the task's scripts). An entry a fault leaves behind, or one of a
   * task ended by someone else, is dropped by the next sweep.
   */
  async forgetRunning(id: string): Promise<void> {
    await this.redis.zrem(this.runningKey(), id).catch(() => undefined);
  }

  /** @internal A run's heartbeat (TaskRun.heartbeat): alive for `aliveMs` more, on Redis's clock. */
  async markAlive(id: string, token: string, aliveMs: number, now?: number): Promise<boolean> {
    const aliveUntil = Number(await this.runScript(HEARTBEAT_LUA, id, token, [String(aliveMs), now === undefined ? '' : String(now)]));
    if (aliveUntil === 0) return false;
    await this.redis.zadd(this.runningKey(), aliveUntil, id);
    return true;
  }

  /**
   * Ends, as failed with `error` (a retryable 503), every running task whose run went silent past
   * its alive-until (its worker died on a delivery the broker does not repeat, so nobody else
   * would end it), at most `limit` per call. Safe to run from every instance at once: each task
   * is ended once, and a run that sent a heartbeat meanwhile is left alone.
   */
  async endOrphanedRuns(error: { code: string; message: string }, now?: number, limit = 100): Promise<OrphanedRun[]> {
    const [seconds, micros] = now === undefined ? await this.redis.time() : [0, 0];
    const at = now ?? Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
    const due = await this.redis.zrangebyscore(this.runningKey(), '-inf', at, 'LIMIT', 0, limit);
    const ended: OrphanedRun[] = [];
    for (const id of due) {
      const final: TaskEvent = { type: 'error', ...error, status: 503 };
      const fields = serialise({ status: 'failed', error, finishedAt: Date.now() });
      const [outcome, ...rest] = (await this.runScript(ORPHAN_LUA, id, randomUUID(), [now === undefined ? '' : String(now), JSON.stringify(final), ...Object.entries(fields).flat()])) as string[];
      if (outcome === 'alive') {
        await this.redis.zadd(this.runningKey(), Number(rest[0]), id);
        continue;
      }
      await this.forgetRunning(id);
      if (outcome !== 'ended') continue;
      const [tenantId = '', keyId = '', model = '', reservationId, attempt, workerId] = rest;
      ended.push({ taskId: id, tenantId, keyId, model, ...(reservationId ? { reservationId } : {}), ...(attempt ? { attempt: Number(attempt) } : {}), ...(workerId ? { workerId } : {}) });
    }
    return ended;
  }

  /** @internal One of this file's scripts on a task: KEYS task and events; ARGV token, lifetime, cap, then `args`. */
  async runScript(script: string, id: string, token: string, args: string[]): Promise<unknown> {
    return this.redis.eval(script, 2, this.taskKey(id), this.eventsKey(id), token, this.ttlMs, this.maxEvents, ...args);
  }

  /**
   * Events written outside any run (a worker writes through its TaskRun): one XADD each, capped,
   * the stream's lifetime renewed. Returns their stream ids.
   */
  async append(id: string, events: TaskEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const key = this.eventsKey(id);
    const pipeline = this.redis.pipeline();
    for (const event of events) pipeline.xadd(key, 'MAXLEN', '~', this.maxEvents, '*', 'e', JSON.stringify(event));
    const results = succeeded(await pipeline.pexpire(key, this.ttlMs).exec());
    return results.slice(0, events.length).map(([, streamId]) => String(streamId));
  }

  /** Events after `afterId` ('0' = from the start), waiting up to `blockMs` for new ones. */
  async read(id: string, afterId = '0', blockMs = 0, count = 500): Promise<StoredEvent[]> {
    const key = this.eventsKey(id);
    const reply =
      blockMs > 0
        ? await this.redis.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, afterId)
        : await this.redis.xread('COUNT', count, 'STREAMS', key, afterId);
    const entries = reply?.[0]?.[1] ?? [];
    return entries.map(([streamId, fields]) => ({ id: streamId, event: taskEventSchema.parse(JSON.parse(fields[1] ?? 'null')) }));
  }

  /** The task's newest event, if it has any. */
  async newestEvent(id: string): Promise<StoredEvent | undefined> {
    const [newest] = await this.redis.xrevrange(this.eventsKey(id), '+', '-', 'COUNT', 1);
    return newest && { id: newest[0], event: taskEventSchema.parse(JSON.parse(newest[1][1] ?? 'null')) };
  }

  async requestCancel(id: string): Promise<void> {
    await this.redis.set(this.cancelKey(id), '1', 'PX', this.ttlMs);
  }

  async isCancelled(id: string): Promise<boolean> {
    return (await this.redis.exists(this.cancelKey(id))) === 1;
  }
}

/**
 * A pipeline or transaction resolves even when its commands failed (connection lost mid-way,
 * wrong type): an event the store did not write must not look written — a client would get an
 * answer with a hole in it and no error.
 */
export function succeeded(results: [Error | null, unknown][] | null): [Error | null, unknown][] {
  if (results === null) throw new Error('Redis discarded the transaction');
  const failed = results.find(([error]) => error);
  if (failed) throw failed[0];
  return results;
}

function serialise(fields: Partial<Task>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[key] = JSON_FIELDS.has(key) ? JSON.stringify(value) : String(value);
  }
  return out;
}

function deserialise(raw: Record<string, string>): Task {
  const task: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (RUN_FIELDS.has(key)) continue;
    if (JSON_FIELDS.has(key)) task[key] = JSON.parse(value);
    else if (NUMBER_FIELDS.has(key)) task[key] = Number(value);
    else if (key === 'stream') task[key] = value === 'true';
    else task[key] = value;
  }
  return task as unknown as Task;
}
