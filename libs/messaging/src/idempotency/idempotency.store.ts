import type { Redis } from 'ioredis';

/**
 * How long a handled event id is remembered by default: longer than a message can keep being
 * redelivered with the default retry settings (16 attempts, 30 s leases, backoff up to 5 min:
 * about 66 min), and no longer — ~5 markers per chat request at 100 req/s add up fast.
 */
export const DEFAULT_DONE_TTL_MS = 2 * 3_600_000;

export type ClaimResult = 'claimed' | 'done' | 'busy';

export interface IdempotencyOptions {
  /** Key prefix, e.g. "aip:". */
  prefix?: string;
  /** How long a claim lives without renewal; a crashed holder's claim expires after this. */
  processingTtlMs?: number;
  /** How long a handled event id is remembered (longer than any redelivery window). */
  doneTtlMs?: number;
}

/**
 * "Has this consumer already handled this event?" in Redis, so an at-least-once redelivery is
 * not processed twice. Key: `{prefix}idem:{consumer}:{eventId}`; value `processing` while a
 * handler holds it (renewed with the message lease), then `done`.
 */
export class IdempotencyStore {
  private readonly prefix: string;
  private readonly processingTtlMs: number;
  private readonly doneTtlMs: number;

  constructor(
    private readonly redis: Redis,
    options: IdempotencyOptions = {},
  ) {
    this.prefix = options.prefix ?? '';
    this.processingTtlMs = options.processingTtlMs ?? 60_000;
    this.doneTtlMs = options.doneTtlMs ?? DEFAULT_DONE_TTL_MS;
  }

  private key(consumer: string, eventId: string) {
    return `${this.prefix}idem:${consumer}:${eventId}`;
  }

  /** 'claimed': go ahead; 'done': handled before, skip; 'busy': someone is handling it now. */
  async claim(consumer: string, eventId: string): Promise<ClaimResult> {
    const key = this.key(consumer, eventId);
    const set = await this.redis.set(key, 'processing', 'PX', this.processingTtlMs, 'NX');
    if (set === 'OK') return 'claimed';
    return (await this.redis.get(key)) === 'done' ? 'done' : 'busy';
  }

  /** Keeps a claim alive while its handler runs. */
  async renew(consumer: string, eventId: string): Promise<void> {
    await this.redis.set(this.key(consumer, eventId), 'processing', 'PX', this.processingTtlMs, 'XX');
  }

  async complete(consumer: string, eventId: string): Promise<void> {
    await this.redis.set(this.key(consumer, eventId), 'done', 'PX', this.doneTtlMs);
  }

  /** Gives the claim up after a failure so the retry can run. */
  async release(consumer: string, eventId: string): Promise<void> {
    await this.redis.del(this.key(consumer, eventId));
  }

  /**
   * Runs `work` once per (consumer, event id): skipped when it already ran, an error when
   * another holder is running it right now (the caller retries later).
   */
  async once(consumer: string, eventId: string, work: () => Promise<void>): Promise<'ran' | 'skipped'> {
    const claim = await this.claim(consumer, eventId);
    if (claim === 'done') return 'skipped';
    if (claim === 'busy') throw new Error(`event ${eventId} is being handled by another consumer of ${consumer}`);
    try {
      await work();
    } catch (error) {
      await this.release(consumer, eventId).catch(() => undefined);
      throw error;
    }
    await this.complete(consumer, eventId);
    return 'ran';
  }
}
