import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE_RETRY_MS = 500;
const BUSY_POLL_MS = 250;

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

// One round trip each, atomic, and safe to run twice (ioredis resends a command whose reply a
// dropped connection lost): a claim is owned by a holder token, so a claim whose reply was lost
// is found again by its holder instead of reading as someone else's.
const CLAIM_LUA = `
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 'claimed' end
if v == 'done' then return 'done' end
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 'claimed' end
return 'busy'`;
const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * "Has this consumer already handled this event?" in Redis, so an at-least-once redelivery is
 * not processed twice. Key: `{prefix}idem:{consumer}:{eventId}`; value `processing:<holder>`
 * while a handler holds it (renewed with the message lease), then `done`.
 */
export class IdempotencyStore {
  private readonly prefix: string;
  private readonly processingTtlMs: number;
  private readonly doneTtlMs: number;
  /** When the connection to Redis last dropped or failed (0: never). */
  private lastOutageAt = 0;

  constructor(
    private readonly redis: Redis,
    options: IdempotencyOptions = {},
  ) {
    this.prefix = options.prefix ?? '';
    this.processingTtlMs = options.processingTtlMs ?? 60_000;
    this.doneTtlMs = options.doneTtlMs ?? DEFAULT_DONE_TTL_MS;
    const outage = () => void (this.lastOutageAt = Date.now());
    redis.on('error', outage);
    redis.on('close', outage);
  }

  private key(consumer: string, eventId: string) {
    return `${this.prefix}idem:${consumer}:${eventId}`;
  }

  /** 'claimed': go ahead (also when `holder` already holds it); 'done': handled before, skip; 'busy': another holder runs it now. */
  async claim(consumer: string, eventId: string, holder: string = randomUUID()): Promise<ClaimResult> {
    return (await this.redis.eval(CLAIM_LUA, 1, this.key(consumer, eventId), `processing:${holder}`, this.processingTtlMs)) as ClaimResult;
  }

  /**
   * A claim, waiting while another holder has it — for at most its TTL. A message redelivered
   * because its worker died finds the dead worker's claim until that expires: refusing it as busy
   * spent one of the message's few attempts (two kills could dead-letter a request), while the
   * caller still holds the message and can wait. A live holder finishes first ('done').
   */
  private async claimWhenFree(consumer: string, eventId: string, holder: string): Promise<ClaimResult> {
    const until = Date.now() + this.processingTtlMs + BUSY_POLL_MS;
    for (;;) {
      const claim = await this.claim(consumer, eventId, holder);
      if (claim !== 'busy' || Date.now() >= until) return claim;
      await new Promise((resolve) => setTimeout(resolve, BUSY_POLL_MS));
    }
  }

  /** Keeps `holder`'s claim alive while its handler runs. */
  async renew(consumer: string, eventId: string, holder: string): Promise<void> {
    await this.redis.eval(RENEW_LUA, 1, this.key(consumer, eventId), `processing:${holder}`, this.processingTtlMs);
  }

  async complete(consumer: string, eventId: string): Promise<void> {
    await this.redis.set(this.key(consumer, eventId), 'done', 'PX', this.doneTtlMs);
  }

  /**
   * Gives `holder`'s claim up after a failure so the retry can run at once. When Redis cannot be
   * reached, it keeps trying until the claim would have expired anyway: a claim left behind by an
   * outage would otherwise make every redelivery wait (or be refused as busy) for its whole TTL.
   */
  async release(consumer: string, eventId: string, holder: string): Promise<void> {
    const key = this.key(consumer, eventId);
    const until = Date.now() + this.processingTtlMs;
    for (;;) {
      try {
        await this.redis.eval(RELEASE_LUA, 1, key, `processing:${holder}`);
        return;
      } catch (error) {
        if (Date.now() + RELEASE_RETRY_MS >= until) throw error;
        await new Promise((resolve) => setTimeout(resolve, RELEASE_RETRY_MS));
      }
    }
  }

  /** Whether Redis dropped or failed since `sinceMs`, or is not reachable now. */
  outageSince(sinceMs: number): boolean {
    return this.redis.status !== 'ready' || this.lastOutageAt >= sinceMs;
  }

  /** Resolves once Redis is reachable again, or after `timeoutMs`. */
  async reachable(timeoutMs: number): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => (clearTimeout(timer), this.redis.off('ready', done), resolve());
      const timer = setTimeout(done, timeoutMs);
      this.redis.once('ready', done);
    });
  }

  /**
   * Runs `work` once per (consumer, event id): skipped when it already ran, an error when
   * another holder is running it right now (the caller retries later). `holder` identifies this
   * run: the same holder may call again (after a Redis outage) and finds its own claim.
   */
  async once(consumer: string, eventId: string, work: () => Promise<void>, holder: string = randomUUID()): Promise<'ran' | 'skipped'> {
    const claim = await this.claimWhenFree(consumer, eventId, holder);
    if (claim === 'done') return 'skipped';
    if (claim === 'busy') throw new Error(`event ${eventId} is being handled by another consumer of ${consumer}`);
    try {
      await work();
    } catch (error) {
      // Waits out a Redis outage (up to the claim's TTL) so the claim is gone when the caller retries.
      await this.release(consumer, eventId, holder).catch(() => undefined);
      throw error;
    }
    await this.complete(consumer, eventId);
    return 'ran';
  }
}
