import type { Redis } from 'ioredis';
import { succeeded } from './task.store.ts';

export interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

// The owner of a session is set by its first request and kept while the session is used.
const CLAIM_OWNER_LUA = `
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/**
 * `session:{id}:history`: the recent turns of a conversation, bounded, newest last; and
 * `session:{id}:owner`: who the conversation belongs to (an end user, or the API key when the
 * caller names no user). Session ids are chosen by clients, so whoever uses one first owns it:
 * another user of the same tenant who learns the id gets a refusal, not the conversation.
 */
export class SessionHistoryStore {
  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix?: string; maxTurns?: number; ttlMs?: number } = {},
  ) {}

  private key(tenantId: string, sessionId: string) {
    return `${this.options.prefix ?? ''}session:{${tenantId}:${sessionId}}:history`;
  }

  private ownerKey(tenantId: string, sessionId: string) {
    return `${this.options.prefix ?? ''}session:{${tenantId}:${sessionId}}:owner`;
  }

  /** Claims the session for `owner` (or confirms it is theirs) and keeps the claim alive; false if another owner has it. */
  async claimOwner(tenantId: string, sessionId: string, owner: string): Promise<boolean> {
    const claimed = await this.redis.eval(CLAIM_OWNER_LUA, 1, this.ownerKey(tenantId, sessionId), owner, this.options.ttlMs ?? 7 * 24 * 3_600_000);
    return Number(claimed) === 1;
  }

  async append(tenantId: string, sessionId: string, turns: Turn[]): Promise<void> {
    const key = this.key(tenantId, sessionId);
    succeeded(
      await this.redis
        .multi()
        .rpush(key, ...turns.map((turn) => JSON.stringify(turn)))
        .ltrim(key, -(this.options.maxTurns ?? 50), -1)
        .pexpire(key, this.options.ttlMs ?? 7 * 24 * 3_600_000)
        .exec(),
    );
  }

  async recent(tenantId: string, sessionId: string, limit = 50): Promise<Turn[]> {
    const raw = await this.redis.lrange(this.key(tenantId, sessionId), -limit, -1);
    return raw.map((item) => JSON.parse(item) as Turn);
  }
}
