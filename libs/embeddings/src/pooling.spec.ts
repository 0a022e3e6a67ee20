import { cosineSimilarity, l2Normalize, meanPoolNormalized, padBatch, planBatches } from './pooling.ts';

describe('padBatch', () => {
  it('pads every sequence to the longest in the batch, with a mask that marks real tokens', () => {
    const batch = padBatch([[101, 7, 102], [101, 102]]);
    expect(batch).toMatchObject({ batch: 2, seqLen: 3 });
    expect(Array.from(batch.inputIds, Number)).toEqual([101, 7, 102, 101, 102, 0]);
    expect(Array.from(batch.attentionMask, Number)).toEqual([1, 1, 1, 1, 1, 0]);
    expect(Array.from(batch.tokenTypeIds, Number)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('planBatches', () => {
  const runs = (lengths: number[], maxBatch: number, overhead?: number) => {
    let start = 0;
    return planBatches(lengths, maxBatch, overhead).map((end) => lengths.slice(start, (start = end)));
  };

  it('gives a few short texts among long ones a run of their own instead of padding them', () => {
    expect(runs([10, 12, 128, 128, 128, 128], 16)).toEqual([[10, 12], [128, 128, 128, 128]]);
  });

  it('keeps similar lengths together when another run would cost more than the padding', () => {
    expect(runs([120, 124, 126, 128], 16)).toEqual([[120, 124, 126, 128]]);
    // Without a cost per run, every distinct length would be a run of its own.
    expect(runs([120, 124, 126, 128], 16, 0)).toEqual([[120], [124], [126], [128]]);
  });

  it('never makes a run longer than maxBatch, and covers every sequence once, in order', () => {
    const lengths = Array.from({ length: 50 }, (_, i) => 20 + i * 2);
    const planned = runs(lengths, 8);
    expect(planned.every((run) => run.length >= 1 && run.length <= 8)).toBe(true);
    expect(planned.flat()).toEqual(lengths);
    expect(runs([5, 5, 5], 1)).toEqual([[5], [5], [5]]);
    expect(planBatches([], 16)).toEqual([]);
  });

  it('refuses unsorted lengths and a batch size below 1', () => {
    expect(() => planBatches([3, 2], 4)).toThrow(/ascending/);
    expect(() => planBatches([1], 0)).toThrow(/maxBatch must be a positive integer/);
  });
});

describe('meanPoolNormalized', () => {
  it('averages only the unmasked token vectors, then scales to unit length', () => {
    // batch 2, seqLen 3, dim 2. Row 0: all three tokens count; row 1: the padding (last) is huge and must not count.
    const hidden = new Float32Array([
      1, 0, 3, 0, 2, 6, // row 0 → mean (2, 2)
      0, 3, 0, 1, 1000, -1000, // row 1 → mean (0, 2) once the padded position is ignored
    ]);
    const mask = new BigInt64Array([1n, 1n, 1n, 1n, 1n, 0n]);
    const [first, second] = meanPoolNormalized(hidden, mask, 2, 3, 2);
    expect(first![0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(first![1]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(second![0]).toBeCloseTo(0, 6);
    expect(second![1]).toBeCloseTo(1, 6);
  });

  it('gives a zero vector (not NaN) for a row without any real token', () => {
    const [vector] = meanPoolNormalized(new Float32Array([5, 5]), new BigInt64Array([0n]), 1, 1, 2);
    expect(vector).toEqual([0, 0]);
  });

  it('rejects tensors whose size does not match the shape', () => {
    expect(() => meanPoolNormalized(new Float32Array(5), new BigInt64Array(2), 1, 2, 3)).toThrow(/expected 1×2×3/);
  });
});

describe('l2Normalize / cosineSimilarity', () => {
  it('scales to unit length and keeps direction', () => {
    const unit = l2Normalize([3, 4]);
    expect(unit[0]).toBeCloseTo(0.6, 10);
    expect(unit[1]).toBeCloseTo(0.8, 10);
    expect(cosineSimilarity(unit, [30, 40])).toBeCloseTo(1, 10);
    expect(cosineSimilarity([0, 0], [1, 1])).toBe(0);
    expect(cosineSimilarity([1, 0], [0, 1])).toBeCloseTo(0, 10);
  });

  it('refuses vectors of different lengths', () => {
    expect(() => cosineSimilarity([1], [1, 2])).toThrow(/differ in length/);
  });
});
