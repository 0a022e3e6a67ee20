export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/**
 * Delay before reconnect attempt `attempt` (1-based): exponential, capped, and jittered between
 * half and all of it ("equal jitter"), so a restarted server is not hit by every client at the
 * same instant while a single client still backs off steadily.
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Push ids are Redis stream ids (`<ms>-<n>`) and sort in delivery order. Compares two of them. */
export function comparePushIds(a: string, b: string): number {
  const [am = 0n, an = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bn = 0n] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  if (an !== bn) return an < bn ? -1 : 1;
  return 0;
}
