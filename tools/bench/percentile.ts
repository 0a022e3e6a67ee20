/** The value at quantile `p` (0–1) of ascending `sorted` latencies (nearest rank); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}
