/**
 * Redis key layout of admission control.
 *
 * Everything one API key owns shares the hash tag `{k:<keyId>}`, so a Redis Cluster keeps it in one
 * slot and keys spread across shards. The global in-flight set (the cap across all keys and the
 * index of lease deadlines that `expireStale` walks) lives under its own tag `{global}`.
 *
 * Trade-off: the admit/reconcile scripts touch both tags, which is one atomic script on a
 * standalone or Sentinel-managed Redis (our deployment) but CROSSSLOT on a Cluster. Putting the
 * global set under every key's tag is impossible (it is shared), and putting all keys under one tag
 * would make the whole limiter one shard forever. The per-key tags keep the door open: on a Cluster
 * the global step would become a separate script run first and compensated on rejection, which
 * can only under-admit for a moment, never over-admit.
 */
/** Where admission control keeps its keys under an app's `REDIS_PREFIX` (every app that reads them uses this). */
export const rateLimitPrefix = (redisPrefix: string): string => `${redisPrefix}rl:`;

export interface AdmissionKeys {
  /**
   * All counters of the key in one hash, so a decision reads them with one HGETALL and writes them
   * with one HSET: { t: bucket tokens, ts: last refill ms, r: rate per ms, c: bucket size,
   * d: UTC day number, n: requests that day, <epoch second>: tokens reserved in that second }.
   */
  state: string;
  /** This key's admitted requests: zset reservationId -> lease deadline ms. */
  inflight: string;
  /** One reservation: hash { k, t, m, p, n: tokens, s: tpm second or '', d: deadline, c: created }. */
  reservation: string;
  /** All keys' admitted requests: zset reservationId -> lease deadline ms. */
  globalInflight: string;
}

export function keyTag(prefix: string, keyId: string): string {
  return `${prefix}{k:${keyId}}`;
}

export function globalInflightKey(prefix: string): string {
  return `${prefix}{global}:inflight`;
}

export function admissionKeys(prefix: string, keyId: string, requestId: string): AdmissionKeys {
  const tag = keyTag(prefix, keyId);
  return {
    state: `${tag}:state`,
    inflight: `${tag}:inflight`,
    reservation: `${tag}:res:${requestId}`,
    globalInflight: globalInflightKey(prefix),
  };
}

/**
 * A reservation id names its key and request, so reconcile/release/expire find every Redis key
 * without a global lookup. The key id is base64url-encoded (no '.'), so any request id round-trips.
 */
export function encodeReservationId(keyId: string, requestId: string): string {
  return `${Buffer.from(keyId, 'utf8').toString('base64url')}.${requestId}`;
}

export function decodeReservationId(reservationId: string): { keyId: string; requestId: string } | undefined {
  const dot = reservationId.indexOf('.');
  if (dot <= 0 || dot === reservationId.length - 1) return undefined;
  const encoded = reservationId.slice(0, dot);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  const keyId = Buffer.from(encoded, 'base64url').toString('utf8');
  if (keyId.length === 0 || encodeReservationId(keyId, '') !== `${encoded}.`) return undefined;
  return { keyId, requestId: reservationId.slice(dot + 1) };
}
