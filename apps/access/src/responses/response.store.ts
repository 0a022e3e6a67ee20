import type { Redis } from 'ioredis';
import type { ResponseRequest } from './response-request.schema.ts';
import type { ChatWireMessage } from './response-items.ts';

/** What every response object says of the request that made it, stored or not. */
export interface ResponseMeta {
  id: string;
  /** Seconds since the epoch (OpenAI's `created_at`). */
  createdAt: number;
  model: string;
  instructions: string | null;
  previousResponseId: string | null;
  /** The conversation it was made in, if any. */
  conversationId: string | null;
  metadata: Record<string, string>;
}

/** A response as kept (`store` true, the default): enough to show it again and to continue from it. */
export interface StoredResponse extends ResponseMeta {
  taskId: string;
  /** Who made it (ADR 0029: `user:<id>` or `key:<id>`); only they read, continue, cancel or delete it. Absent on responses stored before owners were. */
  owner?: string;
  /** The request's input, as sent (GET …/input_items). */
  input: ResponseRequest['input'];
  /** The conversation before this response's input, and that input, as chat messages. */
  history: ChatWireMessage[];
  inputMessages: ChatWireMessage[];
  /** Made with `background: true`: answered at once, settled from its task when read. */
  background?: boolean;
  /** Once it ended: the response object as answered, and the answer as a chat turn. */
  final?: { response: Record<string, unknown>; answer: ChatWireMessage | null };
}

/**
 * Responses in Redis, one JSON value per response under its tenant, for `RESPONSES_TTL_DAYS`
 * (OpenAI keeps them 30 days). Another tenant's id is simply not there.
 */
export class ResponseStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  private key(tenantId: string, id: string): string {
    return `${this.prefix}response:{${tenantId}}:${id}`;
  }

  async save(tenantId: string, response: StoredResponse): Promise<void> {
    await this.redis.set(this.key(tenantId, response.id), JSON.stringify(response), 'PX', this.ttlMs);
  }

  async get(tenantId: string, id: string): Promise<StoredResponse | undefined> {
    const raw = await this.redis.get(this.key(tenantId, id));
    return raw ? (JSON.parse(raw) as StoredResponse) : undefined;
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    return (await this.redis.del(this.key(tenantId, id))) === 1;
  }
}
