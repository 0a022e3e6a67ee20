import type { Redis } from 'ioredis';

/** What a push carries, as stored in the inbox (everything of the push frame but its id, seq and redelivery). */
export interface PushContent {
  kind: 'proactive' | 'notice';
  intent?: string;
  title?: string;
  text: string;
  link?: string;
  slots?: Record<string, string>;
  sessionId?: string;
  time: string;
  expiresAt?: string;
}

export interface StoredPush extends PushContent {
  id: string;
  seq: number;
}

export interface UserRef {
  tenantId: string;
  userId: string;
}

export interface InboxOptions {
  prefix: string;
  maxLength: number;
  ttlMs: number;
  dedupeTtlMs: number;
}

// Dedupe, sequence and append in one script: a redelivered event finds its dedupe key and gets
// the id of the first append back, so a crash between append and broker ack never duplicates.
const APPEND = `
local existing = redis.call('GET', KEYS[3])
if existing then return {0, existing} end
local seq = redis.call('INCR', KEYS[2])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '*', 's', seq, 'p', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], id, 'PX', ARGV[4])
return {1, id}
`;

/** Entry ids compare as (ms, seq) pairs. */
export function compareIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt);
  return am === bm ? (as === bs ? 0 : as < bs ? -1 : 1) : am < bm ? -1 : 1;
}

const MAX_ID_PART = 2n ** 64n - 1n;

/** The id right after `id` (the smallest id greater than it); undefined after the largest id there is. */
export function nextId(id: string): string | undefined {
  const [ms = '0', seq = '0'] = id.split('-');
  if (BigInt(seq) < MAX_ID_PART) return `${ms}-${BigInt(seq) + 1n}`;
  return BigInt(ms) < MAX_ID_PART ? `${BigInt(ms) + 1n}-0` : undefined;
}

/**
 * Per-user inbox: a Redis stream holding exactly the pushes not yet acked, bounded and expiring.
 * Keys carry `{tenant:user}` as hash tag so the script's keys share a cluster slot, and every
 * key is scoped by tenant and user: one user's reads can never see another user's pushes.
 */
export class InboxStore {
  constructor(
    private readonly redis: Redis,
    private readonly options: InboxOptions,
  ) {}

  private base(user: UserRef) {
    return `${this.options.prefix}rtc:{${user.tenantId}:${user.userId}}`;
  }

  inboxKey(user: UserRef) {
    return `${this.base(user)}:inbox`;
  }

  /** Appends unless `dedupeKey` was seen; returns the push id either way. */
  async append(user: UserRef, content: PushContent, dedupeKey: string): Promise<{ id: string; created: boolean }> {
    const base = this.base(user);
    const [created, id] = (await this.redis.eval(APPEND, 3, `${base}:inbox`, `${base}:seq`, `${base}:dedupe:${dedupeKey}`, JSON.stringify(content), String(this.options.maxLength), String(this.options.ttlMs), String(this.options.dedupeTtlMs))) as [number, string];
    return { id, created: created === 1 };
  }

  /** Pushes after `afterId` (exclusive), oldest first. */
  async after(user: UserRef, afterId: string, count = 200): Promise<StoredPush[]> {
    const start = afterId === '0-0' || afterId === '0' ? '-' : `(${afterId}`;
    const entries = (await this.redis.xrange(this.inboxKey(user), start, '+', 'COUNT', count)) as [string, string[]][];
    return entries.map(([id, fields]) => toPush(id, fields));
  }

  /** Every push still waiting (unacked) with one of these ids. */
  async pending(user: UserRef): Promise<StoredPush[]> {
    return this.after(user, '0-0', this.options.maxLength);
  }

  /** The pushes with these ids still in the inbox (one `XRANGE id id` each, pipelined), in the given order. */
  async get(user: UserRef, ids: readonly string[]): Promise<StoredPush[]> {
    if (ids.length === 0) return [];
    const key = this.inboxKey(user);
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.xrange(key, id, id);
    const replies = (await pipeline.exec()) ?? [];
    const found: StoredPush[] = [];
    for (const [error, entries] of replies) {
      if (error) throw error;
      for (const [id, fields] of entries as [string, string[]][]) found.push(toPush(id, fields));
    }
    return found;
  }

  /** Acks individual pushes; returns how many were still unacked. */
  async ack(user: UserRef, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.redis.xdel(this.inboxKey(user), ...ids);
  }

  /** Acks every push up to and including `id` (a resume's last seen id). */
  async ackUpTo(user: UserRef, id: string): Promise<number> {
    const next = nextId(id);
    return next === undefined ? this.redis.xtrim(this.inboxKey(user), 'MAXLEN', 0) : this.redis.xtrim(this.inboxKey(user), 'MINID', next);
  }

  async size(user: UserRef): Promise<number> {
    return this.redis.xlen(this.inboxKey(user));
  }
}

function toPush(id: string, fields: string[]): StoredPush {
  let seq = 0;
  let content: PushContent | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 's') seq = Number(fields[i + 1]);
    else if (fields[i] === 'p') content = JSON.parse(fields[i + 1] ?? 'null') as PushContent;
  }
  if (!content) throw new Error(`inbox entry ${id} has no payload`);
  return { ...content, id, seq };
}
