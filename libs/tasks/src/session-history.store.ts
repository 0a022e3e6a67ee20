import type { Redis } from 'ioredis';

export interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

/** `session:{id}:history`: the recent turns of a conversation, bounded, newest last. */
export class SessionHistoryStore {
  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix?: string; maxTurns?: number; ttlMs?: number } = {},
  ) {}

  private key(tenantId: string, sessionId: string) {
    return `${this.options.prefix ?? ''}session:{${tenantId}:${sessionId}}:history`;
  }

  async append(tenantId: string, sessionId: string, turns: Turn[]): Promise<void> {
    const key = this.key(tenantId, sessionId);
    await this.redis
      .multi()
      .rpush(key, ...turns.map((turn) => JSON.stringify(turn)))
      .ltrim(key, -(this.options.maxTurns ?? 50), -1)
      .pexpire(key, this.options.ttlMs ?? 7 * 24 * 3_600_000)
      .exec();
  }

  async recent(tenantId: string, sessionId: string, limit = 50): Promise<Turn[]> {
    const raw = await this.redis.lrange(this.key(tenantId, sessionId), -limit, -1);
    return raw.map((item) => JSON.parse(item) as Turn);
  }
}
