import type { ChainableCommander, Redis } from 'ioredis';
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

const JSON_FIELDS = new Set(['usage', 'sources', 'error']);
const NUMBER_FIELDS = new Set(['createdAt', 'startedAt', 'firstTokenAt', 'finishedAt', 'attempt']);

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
    this.ttlMs = options.ttlMs ?? 24 * 3_600_000;
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

  async create(task: Pick<Task, 'id' | 'tenantId' | 'keyId' | 'model' | 'stream'> & { sessionId?: string }): Promise<Task> {
    const record: Task = { ...task, status: 'queued', createdAt: Date.now() };
    succeeded(await this.redis.multi().hset(this.taskKey(task.id), serialise(record)).pexpire(this.taskKey(task.id), this.ttlMs).exec());
    return record;
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

  async update(id: string, fields: Partial<Task>): Promise<void> {
    succeeded(await this.redis.multi().hset(this.taskKey(id), serialise(fields)).pexpire(this.taskKey(id), this.ttlMs).exec());
  }

  /** Moves a task to a terminal status once: false when it already was terminal. */
  async finish(id: string, status: TaskStatus, fields: Partial<Task>, event: TaskEvent): Promise<boolean> {
    const current = await this.redis.hget(this.taskKey(id), 'status');
    if (current && TERMINAL_STATUSES.includes(current as TaskStatus)) return false;
    // The terminal status and the final event in one transaction. Written one after the other, a
    // fault between them (a Redis restart, found by the chaos suite) left a task `completed` with
    // no final event: its redelivery saw `completed` and stopped, and every follower waited for ever.
    const taskKey = this.taskKey(id);
    const transaction = this.redis.multi().hset(taskKey, serialise({ ...fields, status, finishedAt: Date.now() })).pexpire(taskKey, this.ttlMs);
    succeeded(await this.addEvents(transaction, id, [event]).exec());
    return true;
  }

  async append(id: string, events: TaskEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const results = succeeded(await this.addEvents(this.redis.pipeline(), id, events).exec());
    return results.slice(0, events.length).map(([, streamId]) => String(streamId));
  }

  /** Queues `events` on a task's stream (capped, its lifetime renewed): one XADD each, then PEXPIRE. */
  private addEvents(commands: ChainableCommander, id: string, events: readonly TaskEvent[]): ChainableCommander {
    const key = this.eventsKey(id);
    for (const event of events) commands.xadd(key, 'MAXLEN', '~', this.maxEvents, '*', 'e', JSON.stringify(event));
    return commands.pexpire(key, this.ttlMs);
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
    if (JSON_FIELDS.has(key)) task[key] = JSON.parse(value);
    else if (NUMBER_FIELDS.has(key)) task[key] = Number(value);
    else if (key === 'stream') task[key] = value === 'true';
    else task[key] = value;
  }
  return task as unknown as Task;
}
