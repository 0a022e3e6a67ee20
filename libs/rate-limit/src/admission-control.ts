import type { Redis } from 'ioredis';
import { ADMIT_LUA, EXPIRE_LUA, RECONCILE_LUA, USAGE_LUA } from './admission.lua.ts';
import type { AdmissionControlOptions, AdmitInput, AdmitResult, KeyUsage, LimitStanding, ReconcileResult, RejectReason } from './admission.types.ts';
import { compilePolicy } from './rate-limit-policy.schema.ts';
import { admissionKeys, decodeReservationId, encodeReservationId, globalInflightKey } from './rate-limit.keys.ts';
import { assertId, assertTime, defineScript, redisNowMs, replyArray, replyNumber, replyString, type ScriptCall } from './redis-script.ts';

// A reservation record outlives its lease by this much, so a slow worker's reconcile can still
// correct the TPM window after its slots were reclaimed.
const RECORD_GRACE_MS = 120_000;
const EXPIRE_BATCH = 500;
const REASONS: readonly RejectReason[] = ['rate_limited', 'token_budget_exceeded', 'concurrency_limit', 'no_capacity'];

/**
 * Admission control for LLM requests: request rate (token bucket), requests per UTC day, reserved
 * tokens per minute, per-key and global concurrency, and live worker capacity, decided by one Lua
 * script per call, so the limits hold exactly under concurrency and across replicas.
 *
 * Life of a request: `admit` reserves (prompt + max_tokens) tokens and a concurrency slot;
 * `reconcile` replaces the reservation by the real usage when the request ends, or `release`
 * cancels it before generation; `expireStale` (run periodically) frees slots of reservations
 * whose lease ran out.
 */
export class AdmissionControl {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly leaseMs: number;
  private readonly busyRetryHintMs: number;
  private readonly admitScript: ScriptCall;
  private readonly reconcileScript: ScriptCall;
  private readonly expireScript: ScriptCall;
  private readonly usageScript: ScriptCall;

  constructor(redis: Redis, options: AdmissionControlOptions = {}) {
    this.redis = redis;
    this.prefix = options.prefix ?? 'aip:rl:';
    this.leaseMs = options.reservationTtlMs ?? 600_000;
    this.busyRetryHintMs = options.busyRetryHintMs ?? 1_000;
    if (!Number.isSafeInteger(this.leaseMs) || this.leaseMs <= 0) throw new RangeError(`reservationTtlMs must be a positive integer, got ${this.leaseMs}`);
    if (!Number.isSafeInteger(this.busyRetryHintMs) || this.busyRetryHintMs <= 0) throw new RangeError(`busyRetryHintMs must be a positive integer, got ${this.busyRetryHintMs}`);
    this.admitScript = defineScript(redis, 'aipRlAdmit', 4, ADMIT_LUA);
    this.reconcileScript = defineScript(redis, 'aipRlReconcile', 4, RECONCILE_LUA);
    this.expireScript = defineScript(redis, 'aipRlExpire', 2, EXPIRE_LUA);
    this.usageScript = defineScript(redis, 'aipRlUsage', 3, USAGE_LUA);
  }

  async admit(input: AdmitInput): Promise<AdmitResult> {
    assertId('requestId', input.requestId);
    assertId('keyId', input.keyId);
    assertTime('nowMs', input.nowMs);
    if (!Number.isSafeInteger(input.tokens) || input.tokens < 0) throw new RangeError(`tokens must be a non-negative integer, got ${input.tokens}`);
    if (input.capacity !== undefined && !Number.isFinite(input.capacity)) throw new RangeError(`capacity must be a finite number, got ${input.capacity}`);
    const policy = compilePolicy(input.policy);
    const keys = admissionKeys(this.prefix, input.keyId, input.requestId);
    const reservationId = encodeReservationId(input.keyId, input.requestId);
    const reply = replyArray(
      await this.admitScript(
        keys.state, keys.inflight, keys.reservation, keys.globalInflight,
        input.nowMs ?? '', reservationId, input.tokens, ...policy,
        input.capacity ?? '', this.leaseMs, RECORD_GRACE_MS, this.busyRetryHintMs,
        input.keyId, input.tenantId, input.model, input.policy.id,
      ),
      'admit',
    );
    if (replyNumber(reply[0], 'admit') === 1) {
      const standing = (limit: unknown, remaining: unknown, resetMs: unknown, what: string): LimitStanding | undefined =>
        limit === '' || limit === undefined ? undefined : { limit: Number(limit), remaining: replyNumber(remaining, `admit ${what} left`), resetMs: replyNumber(resetMs, `admit ${what} reset`) };
      const requests = standing(reply[4], reply[5], reply[6], 'requests');
      const tokens = standing(reply[7], reply[8], reply[9], 'tokens');
      return { admitted: true, reservationId: replyString(reply[1], 'admit id'), reservedTokens: replyNumber(reply[2], 'admit tokens'), standing: { ...(requests ? { requests } : {}), ...(tokens ? { tokens } : {}) } };
    }
    const reason = replyString(reply[1], 'admit reason');
    if (!REASONS.includes(reason as RejectReason)) throw new Error(`unexpected admit reason ${reason}`);
    return {
      admitted: false,
      reason: reason as RejectReason,
      retryAfterMs: replyNumber(reply[2], 'admit retry'),
      limit: replyNumber(reply[3], 'admit limit'),
      remaining: replyNumber(reply[4], 'admit remaining'),
    };
  }

  /**
   * The request ended having used `actualTokens`: the TPM second it was charged to now holds the
   * actual figure, and its concurrency slots are free. Idempotent.
   */
  async reconcile(reservationId: string, actualTokens: number, nowMs?: number): Promise<ReconcileResult> {
    if (!Number.isSafeInteger(actualTokens) || actualTokens < 0) throw new RangeError(`actualTokens must be a non-negative integer, got ${actualTokens}`);
    assertTime('nowMs', nowMs);
    const decoded = decodeReservationId(reservationId);
    if (!decoded) return { applied: false, reservedTokens: 0, actualTokens: 0 };
    const keys = admissionKeys(this.prefix, decoded.keyId, decoded.requestId);
    const reply = replyArray(
      await this.reconcileScript(keys.reservation, keys.state, keys.inflight, keys.globalInflight, nowMs ?? '', reservationId, actualTokens),
      'reconcile',
    );
    if (replyNumber(reply[0], 'reconcile') !== 1) return { applied: false, reservedTokens: 0, actualTokens: 0 };
    return { applied: true, reservedTokens: replyNumber(reply[1], 'reconcile reserved'), actualTokens: replyNumber(reply[2], 'reconcile actual') };
  }

  /** Cancelled before generating anything: all reserved tokens and the slots come back. Idempotent. */
  async release(reservationId: string, nowMs?: number): Promise<boolean> {
    return (await this.reconcile(reservationId, 0, nowMs)).applied;
  }

  /**
   * Frees the concurrency slots of reservations whose lease passed without reconcile/release
   * (crashed or hung workers). Safe to run on every replica at once; returns how many this call
   * freed. Admission already ignores expired leases, so this is what keeps the sets small and
   * gives a figure to alert on.
   */
  async expireStale(nowMs?: number): Promise<number> {
    assertTime('nowMs', nowMs);
    const now = nowMs ?? (await redisNowMs(this.redis));
    const globalKey = globalInflightKey(this.prefix);
    let expired = 0;
    for (;;) {
      const ids = await this.redis.zrangebyscore(globalKey, '-inf', now, 'LIMIT', 0, EXPIRE_BATCH);
      if (ids.length === 0) return expired;
      const results = await Promise.all(
        ids.map((id) => {
          const decoded = decodeReservationId(id);
          // Not ours to interpret: drop it from the index so the sweep does not spin on it.
          if (!decoded) return this.redis.zrem(globalKey, id).then(() => 0);
          return this.expireScript(admissionKeys(this.prefix, decoded.keyId, decoded.requestId).inflight, globalKey, now, id);
        }),
      );
      expired += results.reduce<number>((sum, result) => sum + replyNumber(result, 'expire'), 0);
      if (ids.length < EXPIRE_BATCH) return expired;
    }
  }

  /** Current figures of one key (for rate-limit headers and dashboards). */
  async usage(keyId: string, nowMs?: number): Promise<KeyUsage> {
    assertId('keyId', keyId);
    assertTime('nowMs', nowMs);
    const keys = admissionKeys(this.prefix, keyId, '');
    const reply = replyArray(await this.usageScript(keys.state, keys.inflight, keys.globalInflight, nowMs ?? ''), 'usage');
    const bucket = replyString(reply[1], 'usage bucket');
    return {
      atMs: replyNumber(reply[0], 'usage now'),
      requestTokensLeft: bucket === '' ? undefined : Number(bucket),
      requestsToday: replyNumber(reply[2], 'usage today'),
      tokensLastMinute: replyNumber(reply[3], 'usage tpm'),
      concurrent: replyNumber(reply[4], 'usage concurrent'),
      globalConcurrent: replyNumber(reply[5], 'usage global'),
    };
  }
}
