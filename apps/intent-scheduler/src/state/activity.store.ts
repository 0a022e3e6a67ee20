import type { Redis } from 'ioredis';
import type { Candidate } from '../analysis/analyser.ts';
import { shardOf } from '../sharding/shard.ts';

export interface SessionRef {
  tenantId: string;
  sessionId: string;
  userId: string;
}

/** What the scheduler knows of a session; times are epoch ms. */
export interface SessionState extends SessionRef {
  lastActivityAt: number;
  lastUserAt?: number;
  /** The user's request whose answer is not finished yet, and how long we wait for it at most. */
  pendingTaskId?: string;
  pendingUntil?: number;
  /** The activity the stored candidates were computed from. */
  analysedAt: number;
  candidates: Candidate[];
}

const num = (value: string | undefined) => (value ? Number(value) : undefined);

// Candidates are written only while the session hash exists: an expired session is not brought
// back as a hash without TTL, and its due entry goes with it. The due entry is scored by the
// earliest candidate, so the tick finds it by time, however many newer sessions the shard has.
const SAVE_CANDIDATES = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[3]) return 0 end
redis.call('HSET', KEYS[1], 'analysedAt', ARGV[1], 'candidates', ARGV[2])
if ARGV[4] == '' then redis.call('ZREM', KEYS[2], ARGV[3]) else redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3]) end
return 1`;

// "The user spoke" and "the answer finished" arrive on different topics, in either order and at
// once for a fast answer (ADR 0025: a request admitted at the edge is seen only when a worker
// starts it). Each is one script on the session's hash, so neither reads a state the other is
// about to change: a request already answered is never left pending (which held the session's
// prompts back until INTENT_PENDING_MAX_MS).
const USER_SPOKE = `
redis.call('HSET', KEYS[1], 'lastUserAt', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'userId', ARGV[2]) end
if redis.call('HGET', KEYS[1], 'lastCompletedTaskId') ~= ARGV[3] then
  redis.call('HSET', KEYS[1], 'pendingTaskId', ARGV[3], 'pendingUntil', ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])`;

const ANSWERED = `
redis.call('HSET', KEYS[1], 'userId', ARGV[1], 'lastActivityAt', ARGV[2], 'lastCompletedTaskId', ARGV[3])
if redis.call('HGET', KEYS[1], 'pendingTaskId') == ARGV[3] then redis.call('HDEL', KEYS[1], 'pendingTaskId', 'pendingUntil') end
redis.call('PEXPIRE', KEYS[1], ARGV[4])`;

const member = (ref: SessionRef) => JSON.stringify([ref.tenantId, ref.sessionId, ref.userId]);
const refOf = (raw: string): SessionRef => {
  const [tenantId, sessionId, userId] = JSON.parse(raw) as [string, string, string];
  return { tenantId, sessionId, userId };
};

/**
 * Recently active sessions, per shard: `intent:shard:{n}:sessions` (sorted set, score = last
 * activity) and `intent:session:{tenant:session}` (hash). Written by the event consumers, read and
 * annotated (analysis, candidates) by whichever replica holds the shard. Sessions holding prompts
 * are also in `intent:shard:{n}:due` (sorted set, score = the earliest prompt's due time).
 */
export class ActivityStore {
  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix: string; shards: number; windowMs: number },
  ) {}

  private shardKey(shard: number) {
    return `${this.options.prefix}shard:${shard}:sessions`;
  }

  private dueKey(shard: number) {
    return `${this.options.prefix}shard:${shard}:due`;
  }

  private sessionKey(tenantId: string, sessionId: string) {
    return `${this.options.prefix}session:{${tenantId}:${sessionId}}`;
  }

  shardOf(ref: Pick<SessionRef, 'tenantId' | 'userId'>): number {
    return shardOf(ref.tenantId, ref.userId, this.options.shards);
  }

  /** The user spoke: their answer is pending until it completes (or `pendingMaxMs` passes). */
  async userSpoke(ref: Pick<SessionRef, 'tenantId' | 'sessionId'> & { userId?: string | undefined }, taskId: string, at: number, pendingMaxMs: number): Promise<void> {
    await this.redis.eval(USER_SPOKE, 1, this.sessionKey(ref.tenantId, ref.sessionId), at, ref.userId ?? '', taskId, at + pendingMaxMs, this.ttlMs());
  }

  /** An answer finished: the session is active now and due for analysis. */
  async answered(ref: SessionRef, taskId: string, at: number): Promise<void> {
    await this.redis.eval(ANSWERED, 1, this.sessionKey(ref.tenantId, ref.sessionId), ref.userId, at, taskId, this.ttlMs());
    // GT: a redelivered older completion never moves a session back in time.
    await this.redis.zadd(this.shardKey(this.shardOf(ref)), 'GT', at, member(ref));
  }

  private ttlMs() {
    return this.options.windowMs + 3_600_000;
  }

  /** Sessions of a shard active within the window, most recent first; older ones leave the index. */
  async sessions(shard: number, now: number, limit: number): Promise<SessionRef[]> {
    const key = this.shardKey(shard);
    const since = now - this.options.windowMs;
    await this.redis.zremrangebyscore(key, '-inf', `(${since}`);
    const members = await this.redis.zrevrangebyscore(key, '+inf', since, 'LIMIT', 0, limit);
    return members.map(refOf);
  }

  /**
   * Sessions of a shard holding prompts due by `now`, earliest due first, at most `limit`. Entries
   * older than any live session hash (window + 1 h) are dropped on the way.
   */
  async due(shard: number, now: number, limit: number): Promise<SessionRef[]> {
    const key = this.dueKey(shard);
    await this.redis.zremrangebyscore(key, '-inf', `(${now - this.options.windowMs - 3_600_000}`);
    return (await this.redis.zrangebyscore(key, '-inf', now, 'LIMIT', 0, limit)).map(refOf);
  }

  /** The conversation was deleted: its state, its place among the active sessions and its due prompts are gone. */
  async deleteSession(ref: Pick<SessionRef, 'tenantId' | 'sessionId'> & { userId?: string | undefined }): Promise<void> {
    await this.redis.del(this.sessionKey(ref.tenantId, ref.sessionId));
    if (ref.userId === undefined) return; // sessions without a user are never pushed to, nor indexed
    const indexed = { ...ref, userId: ref.userId };
    await this.redis.zrem(this.shardKey(this.shardOf(indexed)), member(indexed));
    await this.forget(indexed);
  }

  /** The session is gone (its hash expired): nothing of it stays due. */
  async forget(ref: SessionRef): Promise<void> {
    await this.redis.zrem(this.dueKey(this.shardOf(ref)), member(ref));
  }

  async state(ref: SessionRef): Promise<SessionState | undefined> {
    const raw = await this.redis.hgetall(this.sessionKey(ref.tenantId, ref.sessionId));
    const lastActivityAt = num(raw['lastActivityAt']);
    if (lastActivityAt === undefined) return undefined;
    const state: SessionState = {
      ...ref,
      lastActivityAt,
      analysedAt: num(raw['analysedAt']) ?? 0,
      candidates: raw['candidates'] ? (JSON.parse(raw['candidates']) as Candidate[]) : [],
    };
    if (raw['lastUserAt']) state.lastUserAt = Number(raw['lastUserAt']);
    if (raw['pendingTaskId']) state.pendingTaskId = raw['pendingTaskId'];
    if (raw['pendingUntil']) state.pendingUntil = Number(raw['pendingUntil']);
    return state;
  }

  /** Stores the session's prompts and indexes it by the earliest; false (nothing written) when the session expired. */
  async saveCandidates(ref: SessionRef, analysedAt: number, candidates: readonly Candidate[]): Promise<boolean> {
    const nextDue = candidates.length > 0 ? String(Math.min(...candidates.map((c) => c.dueAt))) : '';
    const written = await this.redis.eval(SAVE_CANDIDATES, 2, this.sessionKey(ref.tenantId, ref.sessionId), this.dueKey(this.shardOf(ref)), analysedAt, JSON.stringify(candidates), member(ref), nextDue);
    return written === 1;
  }
}
