import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { textOf, withId, type ConversationItem, type NewConversationItem } from './conversation-items.ts';
import { succeeded } from './task.store.ts';

/** What else holds a conversation's words: its tasks and stored responses. */
export type LinkRef = `task:${string}` | `response:${string}`;

/** A conversation as the Conversations API shows it (without its items). */
export interface Conversation {
  id: string;
  /** Who it belongs to: `user:<id>` (an end user) or `key:<id>` (an API key acting for nobody in particular). */
  owner: string;
  createdAt: number;
  updatedAt: number;
  metadata: Record<string, string>;
  /** The first words of its first user message; null until there is one. */
  title: string | null;
  /** Items stored now, and the oldest removed to keep it within `maxItems`. */
  itemCount: number;
  trimmed: number;
}

export interface ItemPage {
  data: ConversationItem[];
  hasMore: boolean;
}

// Who a conversation belongs to is set when it is made (by the Conversations API, or by the first
// request naming it as `session_id`): 2 = made now, 1 = it is the caller's, 0 = another owner's.
const CLAIM_LUA = `
local owner = redis.call('HGET', KEYS[1], 'owner')
local outcome = 1
if owner then
  if owner ~= ARGV[1] then return 0 end
else
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'createdAt', ARGV[2], 'updatedAt', ARGV[2], 'metadata', ARGV[4], 'seq', 0, 'trimmed', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  outcome = 2
end
if ARGV[5] ~= '' then
  redis.call('SADD', KEYS[2], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return outcome
`;

// The newest ARGV[1] items after the summary, with their sequence numbers, the summary, and how
// many items after the summary are older than those returned: one round trip for a prompt.
const RECENT_LUA = `
local record = redis.call('HMGET', KEYS[1], 'trimmed', 'summary', 'summaryThrough')
local through = 0
if record[2] then through = tonumber(record[3]) end
local window = redis.call('ZRANGE', KEYS[3], -tonumber(ARGV[1]), -1, 'WITHSCORES')
local ids, seqs = {}, {}
for i = 1, #window, 2 do
  local seq = tonumber(window[i + 1])
  if seq > through then
    ids[#ids + 1] = window[i]
    seqs[#seqs + 1] = seq
  end
end
local before = '+inf'
if #seqs > 0 then before = '(' .. seqs[1] end
local skipped = redis.call('ZCOUNT', KEYS[3], '(' .. through, before)
local items = {}
if #ids > 0 then items = redis.call('HMGET', KEYS[2], unpack(ids)) end
return {record[1] or '0', record[2] or '', through, skipped, seqs, items}
`;

// Items in order (seq), the oldest removed beyond ARGV[3]; the title set once, from the first user
// message. Nothing is written to a conversation that is gone (deleted or expired): an answer that
// finishes after its conversation was deleted does not bring it back. Returns the owner, or false.
const APPEND_LUA = `
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then return false end
local n = tonumber(ARGV[4])
for i = 0, n - 1 do
  local id = ARGV[6 + i * 2]
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  redis.call('HSET', KEYS[2], id, ARGV[7 + i * 2])
  redis.call('ZADD', KEYS[3], seq, id)
end
local over = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[3])
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[3], 0, over - 1)
  redis.call('HDEL', KEYS[2], unpack(oldest))
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, over - 1)
  redis.call('HINCRBY', KEYS[1], 'trimmed', over)
end
if ARGV[5] ~= '' and not redis.call('HGET', KEYS[1], 'title') then redis.call('HSET', KEYS[1], 'title', ARGV[5]) end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[2])
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return owner
`;

const SET_METADATA_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'metadata', ARGV[1], 'updatedAt', ARGV[2])
return 1
`;

// A summary replaces an older one only when it covers more of the conversation.
const SET_SUMMARY_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'summaryThrough') or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'summary', ARGV[1], 'summaryThrough', ARGV[2])
return 1
`;

/** What a model wrote of a conversation's older items: those up to `through` (an item sequence number). */
export interface ConversationSummary {
  text: string;
  through: number;
}

/** The newest items of a conversation for a prompt (`ConversationStore.recent`). */
export interface RecentItems {
  /** Oldest first, after the summary's last item, each with its sequence number. */
  items: ConversationItem[];
  seqs: number[];
  /** How many older items were not returned (and are not in the summary), removed ones included. */
  older: number;
  summary?: ConversationSummary;
}

const DELETE_ITEM_LUA = `
local seq = redis.call('ZSCORE', KEYS[3], ARGV[1])
if not seq then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if tonumber(seq) <= tonumber(redis.call('HGET', KEYS[1], 'summaryThrough') or '0') then redis.call('HDEL', KEYS[1], 'summary', 'summaryThrough') end
return 1
`;

const TITLE_CHARS = 80;

/** A title from the first words of a text: at most 80 characters, cut at a word. */
export function titleOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= TITLE_CHARS) return flat;
  const cut = flat.slice(0, TITLE_CHARS - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > TITLE_CHARS / 2 ? cut.slice(0, space) : cut}…`;
}

export interface ConversationStoreOptions {
  prefix?: string;
  /** How long a conversation is kept after its last change, per tenant (ms). Default 30 days. */
  retentionMs?: (tenantId: string) => number;
  /** Items kept per conversation; older ones are removed and counted (`trimmed`). Default 1,000. */
  maxItems?: number;
}

/**
 * Conversations in Redis (ADR 0029): chat completions' `session_id`, the Responses API's
 * `conversation` and the realtime socket's sessions all name one. Per conversation, under one hash
 * tag (`{tenant:id}`, so every script touches one slot): its record (owner, times, metadata, title),
 * its items by id, their order, and the tasks and stored responses made in it. Per owner, an index of their
 * conversations by last change (`conversations:{tenant:owner}`), kept beside, not in the same
 * script. Everything expires after the tenant's retention since the last change.
 */
export class ConversationStore {
  // EVALSHA, not EVAL: a script's text is sent once per connection (ioredis falls back to EVAL after a NOSCRIPT).
  private readonly scripts: Record<'claim' | 'append' | 'recent' | 'setSummary' | 'setMetadata' | 'deleteItem', (...keysThenArgs: (string | number)[]) => Promise<unknown>>;

  constructor(
    private readonly redis: Redis,
    private readonly options: ConversationStoreOptions = {},
  ) {
    const define = (name: string, keys: number, lua: string) => {
      const command = `aipConversation${name}`;
      if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: keys, lua });
      const call = (redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>)[command];
      if (!call) throw new Error(`ioredis did not define ${command}`);
      return (...keysThenArgs: (string | number)[]) => call.apply(redis, keysThenArgs);
    };
    this.scripts = { claim: define('Claim', 2, CLAIM_LUA), append: define('Append', 4, APPEND_LUA), recent: define('Recent', 3, RECENT_LUA), setSummary: define('SetSummary', 1, SET_SUMMARY_LUA), setMetadata: define('SetMetadata', 1, SET_METADATA_LUA), deleteItem: define('DeleteItem', 3, DELETE_ITEM_LUA) };
  }

  private keys(tenantId: string, id: string) {
    const base = `${this.options.prefix ?? ''}conversation:{${tenantId}:${id}}`;
    return { record: base, items: `${base}:items`, order: `${base}:order`, linked: `${base}:linked` };
  }

  private indexKey(tenantId: string, owner: string) {
    return `${this.options.prefix ?? ''}conversations:{${tenantId}:${owner}}`;
  }

  private retention(tenantId: string): number {
    return this.options.retentionMs?.(tenantId) ?? 30 * 86_400_000;
  }

  /** A new conversation of `owner`, with its first items. */
  async create(tenantId: string, owner: string, input: { metadata?: Record<string, string>; items?: NewConversationItem[] } = {}): Promise<{ conversation: Conversation; items: ConversationItem[] }> {
    const id = `conv_${randomBytes(16).toString('hex')}`;
    await this.claim(tenantId, id, owner, input.metadata ? { metadata: input.metadata } : {});
    const items = input.items?.length ? await this.append(tenantId, id, input.items) : [];
    const conversation = await this.get(tenantId, id);
    // Only a deletion racing the creation of a random id it cannot know could get here.
    if (!conversation || !items) throw new Error(`conversation ${id} vanished while it was created`);
    return { conversation, items };
  }

  /**
   * Makes the conversation `owner`'s if nobody has it (a client-chosen `session_id` used for the
   * first time), or confirms it is theirs; false when it is someone else's. With `link`, records
   * in the same step what else will hold its words (the request's task: see `link`).
   */
  async claim(tenantId: string, id: string, owner: string, options: { metadata?: Record<string, string>; link?: LinkRef } = {}): Promise<boolean> {
    const now = Date.now();
    const keys = this.keys(tenantId, id);
    const claimed = Number(await this.scripts.claim(keys.record, keys.linked, owner, now, this.retention(tenantId), JSON.stringify(options.metadata ?? {}), options.link ?? ''));
    if (claimed === 2) await this.index(tenantId, owner, id, now);
    return claimed > 0;
  }

  private async index(tenantId: string, owner: string, id: string, at: number): Promise<void> {
    const key = this.indexKey(tenantId, owner);
    succeeded(await this.redis.multi().zadd(key, at, id).pexpire(key, this.retention(tenantId)).exec());
  }

  async get(tenantId: string, id: string): Promise<Conversation | undefined> {
    const keys = this.keys(tenantId, id);
    const [record, count] = await Promise.all([this.redis.hgetall(keys.record), this.redis.zcard(keys.order)]);
    return recordOf(id, record, count);
  }

  /** Appends items (ids given here); undefined when the conversation is gone. */
  async append(tenantId: string, id: string, items: readonly NewConversationItem[]): Promise<ConversationItem[] | undefined> {
    if (items.length === 0) return [];
    const keys = this.keys(tenantId, id);
    const stored = items.map(withId);
    const firstUser = items.find((item) => item.type === 'message' && item.role === 'user');
    const title = firstUser?.type === 'message' ? titleOf(textOf(firstUser)) : '';
    const now = Date.now();
    const owner = (await this.scripts.append(
      keys.record,
      keys.items,
      keys.order,
      keys.linked,
      this.retention(tenantId),
      now,
      this.options.maxItems ?? 1_000,
      stored.length,
      title,
      ...stored.flatMap((item) => [item.id, JSON.stringify(item)]),
    )) as string | null;
    if (!owner) return undefined;
    await this.index(tenantId, owner, id, now);
    return stored;
  }

  /** A page of items after the item `after` (exclusive), newest first unless `order` is `asc`. */
  async items(tenantId: string, id: string, page: { limit: number; after?: string | undefined; order?: 'asc' | 'desc' | undefined }): Promise<ItemPage | undefined> {
    const keys = this.keys(tenantId, id);
    const descending = page.order !== 'asc';
    let start = 0;
    if (page.after) {
      const rank = descending ? await this.redis.zrevrank(keys.order, page.after) : await this.redis.zrank(keys.order, page.after);
      if (rank === null) return (await this.redis.exists(keys.record)) ? { data: [], hasMore: false } : undefined;
      start = rank + 1;
    }
    const ids = descending ? await this.redis.zrevrange(keys.order, start, start + page.limit) : await this.redis.zrange(keys.order, start, start + page.limit);
    if (ids.length === 0 && !(await this.redis.exists(keys.record))) return undefined;
    const data = await this.load(keys.items, ids.slice(0, page.limit));
    return { data, hasMore: ids.length > page.limit };
  }

  private async load(itemsKey: string, ids: string[]): Promise<ConversationItem[]> {
    return ids.length === 0 ? [] : parsed(await this.redis.hmget(itemsKey, ...ids));
  }

  async item(tenantId: string, id: string, itemId: string): Promise<ConversationItem | undefined> {
    const raw = await this.redis.hget(this.keys(tenantId, id).items, itemId);
    return raw ? (JSON.parse(raw) as ConversationItem) : undefined;
  }

  /**
   * Deletes an item. When the conversation's summary was written from it, the summary goes too (what
   * a user deletes must not live on in a summary); the next long answer writes one from what is left.
   */
  async deleteItem(tenantId: string, id: string, itemId: string): Promise<boolean> {
    const keys = this.keys(tenantId, id);
    return Number(await this.scripts.deleteItem(keys.record, keys.items, keys.order, itemId)) === 1;
  }

  /**
   * The newest `limit` items after the summary (oldest first), the summary, and how many older
   * items there are (or were) besides that neither shows.
   */
  async recent(tenantId: string, id: string, limit = 100): Promise<RecentItems> {
    const keys = this.keys(tenantId, id);
    const [trimmed, summary, through, skipped, seqs, raw] = (await this.scripts.recent(keys.record, keys.items, keys.order, limit)) as [string, string, number, number, number[], (string | null)[]];
    // Older: the items after the summary this read did not return, and (without a summary) those removed by the bound.
    const older = skipped + (summary ? 0 : Number(trimmed));
    return { items: parsed(raw), seqs, older, ...(summary ? { summary: { text: summary, through } } : {}) };
  }

  /** The newest `limit` items, oldest first, summary or not (what an analysis of the conversation reads). */
  async latest(tenantId: string, id: string, limit: number): Promise<ConversationItem[]> {
    const keys = this.keys(tenantId, id);
    return this.load(keys.items, await this.redis.zrange(keys.order, -limit, -1));
  }

  /** The items with a sequence number after `after` and up to `through`, oldest first, at most `limit` (the newest of them). */
  async between(tenantId: string, id: string, after: number, through: number, limit = 200): Promise<ConversationItem[]> {
    const keys = this.keys(tenantId, id);
    const ids = await this.redis.zrevrangebyscore(keys.order, through, `(${after}`, 'LIMIT', 0, limit);
    return this.load(keys.items, ids.reverse());
  }

  /** Keeps a summary of the items up to `through`, unless one covering as much is there. */
  async setSummary(tenantId: string, id: string, summary: ConversationSummary): Promise<boolean> {
    return Number(await this.scripts.setSummary(this.keys(tenantId, id).record, summary.text, summary.through)) === 1;
  }

  async setMetadata(tenantId: string, id: string, metadata: Record<string, string>): Promise<boolean> {
    return Number(await this.scripts.setMetadata(this.keys(tenantId, id).record, JSON.stringify(metadata), Date.now())) === 1;
  }

  /**
   * Records what else holds the conversation's words — a task (`task:<id>`: its result and events)
   * or a stored response (`response:<id>`) — so deleting the conversation deletes them too.
   */
  async link(tenantId: string, id: string, ref: LinkRef): Promise<void> {
    const key = this.keys(tenantId, id).linked;
    succeeded(await this.redis.multi().sadd(key, ref).pexpire(key, this.retention(tenantId)).exec());
  }

  /** Deletes the conversation with its items; answers what it was and what was linked to it (for the caller to delete). */
  async delete(tenantId: string, id: string): Promise<{ conversation: Conversation; linked: string[] } | undefined> {
    const keys = this.keys(tenantId, id);
    const conversation = await this.get(tenantId, id);
    if (!conversation) return undefined;
    const linked = await this.redis.smembers(keys.linked);
    await this.redis.del(keys.record, keys.items, keys.order, keys.linked);
    await this.redis.zrem(this.indexKey(tenantId, conversation.owner), id);
    return { conversation, linked };
  }

  /** The owner's conversations, most recently changed first, after the conversation `after`. */
  async list(tenantId: string, owner: string, page: { limit: number; after?: string | undefined }): Promise<{ data: Conversation[]; hasMore: boolean }> {
    const key = this.indexKey(tenantId, owner);
    let start = 0;
    if (page.after) {
      const rank = await this.redis.zrevrank(key, page.after);
      if (rank === null) return { data: [], hasMore: false };
      start = rank + 1;
    }
    const ids = await this.redis.zrevrange(key, start, start + page.limit);
    const found = await Promise.all(ids.slice(0, page.limit).map(async (id) => [id, await this.get(tenantId, id)] as const));
    // Expired conversations leave their index entry behind: removed when met.
    const gone = found.filter(([, conversation]) => !conversation).map(([id]) => id);
    if (gone.length > 0) await this.redis.zrem(key, ...gone);
    return { data: found.flatMap(([, conversation]) => (conversation ? [conversation] : [])), hasMore: ids.length > page.limit };
  }
}

/** Stored items (JSON), those still there. */
function parsed(raw: readonly (string | null)[]): ConversationItem[] {
  return raw.flatMap((item) => (item ? [JSON.parse(item) as ConversationItem] : []));
}

function recordOf(id: string, record: Record<string, string>, itemCount: number): Conversation | undefined {
  if (!record['owner']) return undefined;
  return {
    id,
    owner: record['owner'],
    createdAt: Number(record['createdAt']),
    updatedAt: Number(record['updatedAt']),
    metadata: JSON.parse(record['metadata'] ?? '{}') as Record<string, string>,
    title: record['title'] ?? null,
    itemCount,
    trimmed: Number(record['trimmed'] ?? 0),
  };
}
