/** Redis stream ids are two unsigned 64-bit numbers, `<ms>-<seq>`. */
const MAX_PART = 2n ** 64n - 1n;
const SHAPE = /^(\d{1,20})-(\d{1,20})$/;

/**
 * Whether a client-sent id (a task event id, a push id) can be used as a Redis stream cursor:
 * anything else (e.g. a 20-digit part above 2^64 - 1) makes Redis answer "Invalid stream ID" —
 * a 500 where the client deserves a 400, or, in a read shared by many followers, a stall for all.
 */
export function isStreamId(id: string): boolean {
  const [, ms, seq] = SHAPE.exec(id) ?? [];
  return ms !== undefined && seq !== undefined && BigInt(ms) <= MAX_PART && BigInt(seq) <= MAX_PART;
}

/** Orders two valid stream ids (negative: a before b). */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bMs, bSeq] = b.split('-').map(BigInt) as [bigint, bigint];
  return aMs === bMs ? Number(aSeq - bSeq) : aMs < bMs ? -1 : 1;
}
