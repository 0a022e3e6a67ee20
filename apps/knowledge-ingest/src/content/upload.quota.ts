import type { Redis } from 'ioredis';

export interface UploadQuotaLimits {
  /** Uploads of one tenant accepted and not yet applied. */
  readonly maxDocuments: number;
  /** Bytes of those uploads. */
  readonly maxBytes: number;
  /** A reservation nobody released (crash between accepting and publishing, a lost message) stops counting after this long. */
  readonly ttlMs: number;
}

export interface QuotaUsage {
  readonly documents: number;
  readonly bytes: number;
}

export type QuotaDecision = ({ readonly ok: true } | { readonly ok: false; readonly limit: 'documents' | 'bytes' }) & { readonly usage: QuotaUsage };

// KEYS: 1 reservations (zset: content ref → expiry), 2 sizes (hash: content ref → bytes).
// ARGV: now, ref, bytes, maxDocuments, maxBytes, ttlMs, mode ('check' | 'reserve').
// Expired reservations are dropped first; then one decision against the limits, and for
// 'reserve' the reservation, in one step: concurrent uploads of a tenant cannot both take the last place.
const ADMIT = `
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 1, #expired, 500 do
  local batch = {unpack(expired, i, math.min(i + 499, #expired))}
  redis.call('ZREM', KEYS[1], unpack(batch))
  redis.call('HDEL', KEYS[2], unpack(batch))
end
local documents = redis.call('ZCARD', KEYS[1])
local bytes = 0
for _, size in ipairs(redis.call('HVALS', KEYS[2])) do bytes = bytes + tonumber(size) end
local reserve = ARGV[7] == 'reserve'
if reserve and redis.call('ZSCORE', KEYS[1], ARGV[2]) then return {1, '', documents, bytes} end
if documents + 1 > tonumber(ARGV[4]) then return {0, 'documents', documents, bytes} end
if bytes + tonumber(ARGV[3]) > tonumber(ARGV[5]) then return {0, 'bytes', documents, bytes} end
if reserve then
  local ttl = tonumber(ARGV[6])
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[2])
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {1, '', documents, bytes}
`;

/**
 * How much a tenant may have uploaded and not yet indexed: documents and bytes, shared by every
 * instance through Redis. A reservation is made when an upload is accepted (keyed by its content
 * reference) and released when its change is applied for good — indexed, failed or dropped — or
 * when the change could not be queued. The quota is what keeps one tenant's flood out of the
 * FIFO topic, where nothing can reorder it any more (ADR 0015).
 */
export class UploadQuota {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly limits: UploadQuotaLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether one more upload fits now, reserving nothing: a refusal before the body is read. */
  check(tenantId: string): Promise<QuotaDecision> {
    // One byte: a tenant at its byte limit is refused too.
    return this.admit(tenantId, '', 1, 'check');
  }

  /** Reserves a place for the upload `ref` of `bytes`, unless that would exceed a limit; reserving the same ref again is a no-op. */
  reserve(tenantId: string, ref: string, bytes: number): Promise<QuotaDecision> {
    return this.admit(tenantId, ref, bytes, 'reserve');
  }

  /** Gives the place back (safe to repeat, and for a ref that was never reserved). */
  async release(tenantId: string, ref: string): Promise<void> {
    const [reservations, sizes] = this.keys(tenantId);
    await this.redis.multi().zrem(reservations, ref).hdel(sizes, ref).exec();
  }

  private async admit(tenantId: string, ref: string, bytes: number, mode: 'check' | 'reserve'): Promise<QuotaDecision> {
    const { maxDocuments, maxBytes, ttlMs } = this.limits;
    const [ok, limit, documents, used] = (await this.redis.eval(ADMIT, 2, ...this.keys(tenantId), this.now(), ref, bytes, maxDocuments, maxBytes, ttlMs, mode)) as [number, string, number, number];
    const usage = { documents, bytes: used };
    return ok === 1 ? { ok: true, usage } : { ok: false, limit: limit === 'bytes' ? 'bytes' : 'documents', usage };
  }

  private keys(tenantId: string): [string, string] {
    const tenant = encodeURIComponent(tenantId);
    // One hash tag: both keys of a tenant live in one Redis Cluster slot, as the script needs.
    return [`${this.prefix}kb:uploads:{${tenant}}`, `${this.prefix}kb:upload-bytes:{${tenant}}`];
  }
}
