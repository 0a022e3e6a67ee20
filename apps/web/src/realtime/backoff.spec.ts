import { backoffDelay, comparePushIds } from './backoff.ts';

describe('backoffDelay', () => {
  const backoff = { initialMs: 500, maxMs: 30_000 };

  it('doubles per attempt between half and all of the ceiling, and stops at the cap', () => {
    expect([1, 2, 3].map((attempt) => backoffDelay(attempt, backoff, () => 1))).toEqual([500, 1_000, 2_000]);
    expect([1, 2, 3].map((attempt) => backoffDelay(attempt, backoff, () => 0))).toEqual([250, 500, 1_000]);
    expect(backoffDelay(20, backoff, () => 1)).toBe(30_000);
  });
});

describe('comparePushIds', () => {
  it('orders stream ids by number, not by text', () => {
    expect(comparePushIds('9-0', '10-0')).toBe(-1);
    expect(comparePushIds('10-2', '10-10')).toBe(-1);
    expect(comparePushIds('1764000000500-0', '1764000000000-7')).toBe(1);
    expect(comparePushIds('5-5', '5-5')).toBe(0);
  });
});
