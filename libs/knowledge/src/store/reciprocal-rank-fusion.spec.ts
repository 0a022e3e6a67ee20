import { FusionError, reciprocalRankFusion } from './reciprocal-rank-fusion.ts';

const list = (name: string, ids: string[]) => ({ name, items: ids.map((id) => ({ id })) });

describe('reciprocalRankFusion', () => {
  it('puts an item ranked well in both lists above items ranked first in only one', () => {
    const fused = reciprocalRankFusion([list('dense', ['a', 'both', 'c']), list('fulltext', ['x', 'both', 'y'])]);
    expect(fused.map((f) => f.key)).toEqual(['both', 'a', 'x', 'c', 'y']);
    expect(fused[0]!.ranks).toEqual({ dense: 2, fulltext: 2 });
    expect(fused[1]!.ranks).toEqual({ dense: 1 });
  });

  it('scores with 1/(k + rank) summed over lists, k = 60 by default', () => {
    const [top] = reciprocalRankFusion([list('dense', ['a']), list('fulltext', ['b', 'a'])]);
    expect(top!.key).toBe('a');
    expect(top!.score).toBeCloseTo(1 / 61 + 1 / 62, 12);
    const [withK] = reciprocalRankFusion([list('dense', ['a'])], { k: 0 });
    expect(withK!.score).toBe(1);
  });

  it('weights move one list ahead of the other', () => {
    const lists = [list('dense', ['d1', 'd2']), list('fulltext', ['f1', 'f2'])];
    expect(reciprocalRankFusion(lists, { weights: { fulltext: 2 } })[0]!.key).toBe('f1');
    expect(reciprocalRankFusion(lists, { weights: { dense: 2 } })[0]!.key).toBe('d1');
    // Weight 0: the list still reports ranks but cannot lift an item.
    const muted = reciprocalRankFusion(lists, { weights: { dense: 0 } });
    expect(muted.slice(0, 2).map((f) => f.key)).toEqual(['f1', 'f2']);
    expect(muted.find((f) => f.key === 'd1')).toMatchObject({ score: 0, ranks: { dense: 1 } });
  });

  it('breaks ties deterministically: best single rank, then list order', () => {
    const fused = reciprocalRankFusion([list('dense', ['a', 'b']), list('fulltext', ['b', 'a'])]);
    expect(fused.map((f) => f.key)).toEqual(['a', 'b']);
    expect(fused[0]!.score).toBe(fused[1]!.score);
  });

  it('counts a duplicate within one list once, at its best rank', () => {
    const fused = reciprocalRankFusion([list('dense', ['a', 'a', 'b'])]);
    expect(fused.map((f) => [f.key, f.ranks['dense']])).toEqual([['a', 1], ['b', 2]]);
  });

  it('uses a custom key and keeps the first item seen for a key', () => {
    const fused = reciprocalRankFusion([{ name: 'x', items: [{ ref: 'r1', from: 'x' }] }, { name: 'y', items: [{ ref: 'r1', from: 'y' }] }], { key: (i) => i.ref });
    expect(fused).toHaveLength(1);
    expect(fused[0]!.item.from).toBe('x');
  });

  it('returns nothing for no lists or empty lists', () => {
    expect(reciprocalRankFusion([])).toEqual([]);
    expect(reciprocalRankFusion([list('dense', []), list('fulltext', [])])).toEqual([]);
  });

  it('rejects bad options with a clear error', () => {
    expect(() => reciprocalRankFusion([list('a', ['1'])], { k: -1 })).toThrow(FusionError);
    expect(() => reciprocalRankFusion([list('a', ['1'])], { weights: { a: Number.NaN } })).toThrow(/weight of 'a'/);
    expect(() => reciprocalRankFusion([list('a', ['1']), list('a', ['2'])])).toThrow(/appears twice/);
    expect(() => reciprocalRankFusion([{ name: 'a', items: [{ nope: 1 }] }])).toThrow(/string `id`/);
  });
});
