/** FNV-1a (32 bit): fast, stable across processes and versions, evenly spread for short ids. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The shard of a user: every session of one user lands in one shard, so one runner decides for them. */
export function shardOf(tenantId: string, userId: string, shards: number): number {
  return fnv1a(`${tenantId}\u0000${userId}`) % shards;
}

/**
 * The order in which a replica tries the shards this tick: all of them, starting at a different
 * place per replica and tick, so replicas that tick together spread over the shards instead of
 * queueing on the same locks.
 */
export function shardOrder(shards: number, start: number): number[] {
  const offset = ((start % shards) + shards) % shards;
  return Array.from({ length: shards }, (_, i) => (offset + i) % shards);
}
