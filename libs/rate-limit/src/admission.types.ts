import type { RateLimitPolicy } from './rate-limit-policy.schema.ts';

export interface AdmitInput {
  /** Unique per request; a second admit of the same live request returns the same reservation. */
  requestId: string;
  tenantId: string;
  keyId: string;
  model: string;
  /** Estimated prompt tokens + max_tokens: what the request may consume at most. */
  tokens: number;
  policy: RateLimitPolicy;
  /** Free worker slots right now (WorkerRegistry.liveCapacity()); undefined = do not check. */
  capacity?: number;
  /** Injected clock for tests and replays; default: the Redis server clock. */
  nowMs?: number;
}

export type RejectReason = 'rate_limited' | 'token_budget_exceeded' | 'concurrency_limit' | 'no_capacity' | 'budget_exceeded';

/** One limit as it stands after an admission: what OpenAI's `x-ratelimit-*` headers say. */
export interface LimitStanding {
  limit: number;
  remaining: number;
  /** Until the limit is back to its full allowance. */
  resetMs: number;
}

export interface Admitted {
  admitted: true;
  reservationId: string;
  reservedTokens: number;
  /** The key's requests-per-minute and tokens-per-minute limits after this admission (those it has). */
  standing: { requests?: LimitStanding; tokens?: LimitStanding };
}

export interface Rejected {
  admitted: false;
  /** The binding constraint: of all failing limits, the one that frees last. */
  reason: RejectReason;
  /**
   * When to try again: when the bucket holds a token, the day rolls over, enough reserved tokens
   * leave the TPM window, or (concurrency/capacity, unknowable) the earliest lease expiry capped by
   * `busyRetryHintMs`. -1: never (the request alone exceeds tokensPerMinute); do not queue it.
   */
  retryAfterMs: number;
  /** The limit that bound (requests per minute/day, tokens per minute, slots). */
  limit: number;
  /** What is left of that limit now. */
  remaining: number;
}

export type AdmitResult = Admitted | Rejected;

export interface KeyUsage {
  /** The clock the figures were taken at. */
  atMs: number;
  /** Whole requests left in the token bucket; undefined when the bucket is full or never used. */
  requestTokensLeft: number | undefined;
  requestsToday: number;
  /** Reserved (or, once reconciled, actual) tokens in the last 60 s. */
  tokensLastMinute: number;
  /** This key's requests in flight. */
  concurrent: number;
  /** All keys' requests in flight. */
  globalConcurrent: number;
}

export interface ReconcileResult {
  /** False when the reservation was unknown or already ended (nothing changed). */
  applied: boolean;
  reservedTokens: number;
  actualTokens: number;
}

export interface AdmissionControlOptions {
  /** Prefix of every key, e.g. "aip:rl:". */
  prefix?: string;
  /**
   * Lease of a reservation: after this without reconcile/release its concurrency slots are freed
   * (a crashed worker cannot hold them forever). Default 10 min; set above the longest generation.
   */
  reservationTtlMs?: number;
  /** Retry hint for concurrency/capacity rejections, whose real end time is unknown. Default 1 s. */
  busyRetryHintMs?: number;
}
