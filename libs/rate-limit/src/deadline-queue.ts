import type { Redis } from 'ioredis';
import { encodeQueueMember } from './deadline-queue.codec.ts';
import { CANCEL_LUA, ENQUEUE_LUA, TAKE_EXPIRED_LUA, TAKE_NEXT_LUA } from './deadline-queue.lua.ts';
import { assertId, assertTime, defineScript, replyArray, replyNumber, replyString, type ScriptCall } from './redis-script.ts';

export interface QueuedRequest {
  requestId: string;
  /** The fairness unit: each key with waiting requests gets a turn in rotation. */
  keyId: string;
  /** 0 = most urgent, up to 99; orders requests within one key. */
  priority: number;
  /** Epoch ms after which the request is no longer worth running. */
  deadlineMs: number;
  payload: string;
}

export interface DeadlineQueueOptions {
  /** Prefix of every key, e.g. "aip:rl:". */
  prefix?: string;
  /** Queue name (e.g. per model pool); each queue is one Redis hash tag. */
  name?: string;
}

const FIELDS_PER_ITEM = 5;

/**
 * Requests that could not be admitted yet but may still make their deadline, parked in Redis
 * instead of being answered 429. Retried when capacity frees (`takeNext`), rejected with
 * `deadline_exceeded` once their deadline passes (`takeExpired`).
 *
 * Order: round-robin across keys (the key served longest ago goes next, so one key with a
 * thousand waiting requests delays another key by at most one turn); within a key, lowest
 * priority number, then earliest deadline. Priority deliberately does not cross keys: it is the
 * caller's ranking of its own requests, and letting it cross would let one tenant's "urgent" flood
 * starve everyone else. Every operation is one script, so replicas never take the same item.
 */
export class DeadlineQueue {
  private readonly keys: readonly string[];
  private readonly membersKey: string;
  private readonly enqueueScript: ScriptCall;
  private readonly takeNextScript: ScriptCall;
  private readonly takeExpiredScript: ScriptCall;
  private readonly cancelScript: ScriptCall;
  private readonly redis: Redis;

  constructor(redis: Redis, options: DeadlineQueueOptions = {}) {
    const name = options.name ?? 'default';
    assertId('queue name', name);
    const tag = `${options.prefix ?? 'aip:rl:'}{q:${name}}`;
    this.redis = redis;
    // Order = KEYS[1..6] of deadline-queue.lua.ts.
    this.keys = ['ring', 'items', 'payloads', 'members', 'deadlines', 'turn'].map((part) => `${tag}:${part}`);
    this.membersKey = `${tag}:members`;
    this.enqueueScript = defineScript(redis, 'aipRlQueueEnqueue', 6, ENQUEUE_LUA);
    this.takeNextScript = defineScript(redis, 'aipRlQueueTakeNext', 6, TAKE_NEXT_LUA);
    this.takeExpiredScript = defineScript(redis, 'aipRlQueueTakeExpired', 6, TAKE_EXPIRED_LUA);
    this.cancelScript = defineScript(redis, 'aipRlQueueCancel', 6, CANCEL_LUA);
  }

  /**
   * Parks a request: 'queued'; 'duplicate' when a request with this id is already waiting (it
   * keeps its place); 'refused' when more than `maxAhead` requests of the same key would be served
   * before it (the caller knows it cannot make its deadline) or the key already has `maxParked`
   * waiting. `ahead` and `parked` are those counts either way.
   */
  async enqueue(request: QueuedRequest, options: { maxAhead?: number; maxParked?: number } = {}): Promise<{ outcome: 'queued' | 'duplicate' | 'refused'; ahead: number; parked: number }> {
    if (typeof request.payload !== 'string') throw new TypeError('payload must be a string');
    const { maxAhead, maxParked } = options;
    if (maxAhead !== undefined && (!Number.isSafeInteger(maxAhead) || maxAhead < 0)) throw new RangeError(`maxAhead must be a non-negative integer, got ${maxAhead}`);
    if (maxParked !== undefined && (!Number.isSafeInteger(maxParked) || maxParked < 1)) throw new RangeError(`maxParked must be a positive integer, got ${maxParked}`);
    const member = encodeQueueMember(request.keyId, request.requestId, request.priority, request.deadlineMs);
    const reply = replyArray(await this.enqueueScript(...this.keys, request.requestId, request.keyId, member, request.deadlineMs, request.payload, maxAhead ?? '', maxParked ?? ''), 'enqueue');
    const status = replyNumber(reply[0], 'enqueue');
    return {
      outcome: status === 1 ? 'queued' : status === 0 ? 'duplicate' : 'refused',
      ahead: replyNumber(reply[1], 'enqueue ahead'),
      parked: replyNumber(reply[2], 'enqueue parked'),
    };
  }

  /** The next request to retry (removed from the queue), or undefined when none is waiting unexpired. */
  async takeNext(nowMs?: number): Promise<QueuedRequest | undefined> {
    assertTime('nowMs', nowMs);
    const reply = await this.takeNextScript(...this.keys, nowMs ?? '');
    return reply === null ? undefined : this.item(replyArray(reply, 'takeNext'), 0);
  }

  /** Removes and returns up to `limit` requests whose deadline passed (deadline <= now), earliest first. */
  async takeExpired(nowMs?: number, limit = 100): Promise<QueuedRequest[]> {
    assertTime('nowMs', nowMs);
    if (!Number.isSafeInteger(limit) || limit <= 0) throw new RangeError(`limit must be a positive integer, got ${limit}`);
    const flat = replyArray(await this.takeExpiredScript(...this.keys, nowMs ?? '', limit), 'takeExpired');
    const items: QueuedRequest[] = [];
    for (let offset = 0; offset < flat.length; offset += FIELDS_PER_ITEM) items.push(this.item(flat, offset));
    return items;
  }

  /** Removes a waiting request (e.g. its client went away); undefined if it was not waiting. */
  async cancel(requestId: string): Promise<QueuedRequest | undefined> {
    assertId('requestId', requestId);
    const reply = await this.cancelScript(...this.keys, requestId);
    return reply === null ? undefined : this.item(replyArray(reply, 'cancel'), 0);
  }

  /** Requests waiting, expired or not. */
  async size(): Promise<number> {
    return this.redis.hlen(this.membersKey);
  }

  private item(fields: unknown[], offset: number): QueuedRequest {
    return {
      requestId: replyString(fields[offset], 'queue requestId'),
      keyId: replyString(fields[offset + 1], 'queue keyId'),
      priority: replyNumber(fields[offset + 2], 'queue priority'),
      deadlineMs: replyNumber(fields[offset + 3], 'queue deadline'),
      payload: replyString(fields[offset + 4], 'queue payload'),
    };
  }
}
