// Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): each list contributes
// weight / (k + rank) for every item it holds; items are ordered by the sum. It needs only ranks,
// so it fuses cosine similarities and BM25 scores, whose scales have nothing in common, and it
// gives the same answer whichever store produced the lists.

export interface RankedList<T> {
  /** Name of the list (e.g. 'dense', 'fulltext'); it keys `ranks` and `weights`. */
  readonly name: string;
  /** Best first. Items with the same key in one list count once, at their best rank. */
  readonly items: readonly T[];
}

export interface FusionOptions<T> {
  /** Identity of an item across lists. Default: its `id` property (which must be a string). */
  readonly key?: (item: T) => string;
  /** Damping constant: larger values flatten the difference between top and lower ranks. Default 60. */
  readonly k?: number;
  /** Weight per list name (default 1). A weight of 0 keeps the list's ranks but adds nothing to the score. */
  readonly weights?: Readonly<Record<string, number>>;
}

export interface FusedItem<T> {
  readonly item: T;
  readonly key: string;
  readonly score: number;
  /** 1-based rank in every list that held the item. */
  readonly ranks: Readonly<Record<string, number>>;
}

export class FusionError extends Error {
  override readonly name = 'FusionError';
}

/**
 * Fuses ranked lists into one, best first. Ties (equal fused score) are broken by the best single
 * rank, then by the order of the lists, so the result is deterministic.
 */
export function reciprocalRankFusion<T>(lists: readonly RankedList<T>[], options: FusionOptions<T> = {}): FusedItem<T>[] {
  const k = options.k ?? 60;
  const keyOf = options.key ?? idOf;
  if (!Number.isFinite(k) || k < 0) throw new FusionError(`k must be a finite number >= 0, got ${k}`);
  for (const [name, weight] of Object.entries(options.weights ?? {})) {
    if (!Number.isFinite(weight) || weight < 0) throw new FusionError(`weight of '${name}' must be a finite number >= 0, got ${weight}`);
  }
  const names = new Set<string>();
  for (const list of lists) {
    if (names.has(list.name)) throw new FusionError(`list name '${list.name}' appears twice`);
    names.add(list.name);
  }

  interface Entry { item: T; key: string; score: number; ranks: Record<string, number>; bestRank: number; firstList: number }
  const fused = new Map<string, Entry>();
  lists.forEach((list, listIndex) => {
    const weight = options.weights?.[list.name] ?? 1;
    let rank = 0;
    const seen = new Set<string>();
    for (const item of list.items) {
      const key = keyOf(item);
      if (seen.has(key)) continue;
      seen.add(key);
      rank += 1;
      const entry = fused.get(key) ?? { item, key, score: 0, ranks: {}, bestRank: Infinity, firstList: listIndex };
      entry.score += weight / (k + rank);
      entry.ranks[list.name] = rank;
      entry.bestRank = Math.min(entry.bestRank, rank);
      fused.set(key, entry);
    }
  });
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.bestRank - b.bestRank || a.firstList - b.firstList)
    .map(({ item, key, score, ranks }) => ({ item, key, score, ranks }));
}

function idOf(item: unknown): string {
  const id = (item as { id?: unknown } | null)?.id;
  if (typeof id !== 'string') throw new FusionError('items need a string `id`, or pass options.key');
  return id;
}
