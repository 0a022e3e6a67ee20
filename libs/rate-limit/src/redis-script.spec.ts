import { assertId, assertTime, replyArray, replyNumber, replyString } from './redis-script.ts';

describe('reply narrowing', () => {
  it('reads numbers from integer and bulk replies', () => {
    expect(replyNumber(3, 'x')).toBe(3);
    expect(replyNumber('1.5', 'x')).toBe(1.5);
    expect(() => replyNumber(null, 'x')).toThrow(/unexpected Redis reply for x/);
    expect(() => replyNumber('abc', 'x')).toThrow();
  });

  it('reads strings and arrays', () => {
    expect(replyString('a', 'x')).toBe('a');
    expect(replyString(7, 'x')).toBe('7');
    expect(() => replyString(null, 'x')).toThrow();
    expect(replyArray([1, 'a'], 'x')).toEqual([1, 'a']);
    expect(() => replyArray('a', 'x')).toThrow();
  });
});

describe('input guards', () => {
  it('rejects ids that would change the Cluster hash tag', () => {
    expect(() => assertId('keyId', 'ok-id:1')).not.toThrow();
    for (const bad of ['', 'a{b', 'a}b', 'a\0b', 'x'.repeat(257)]) expect(() => assertId('keyId', bad)).toThrow(TypeError);
  });

  it('accepts only non-negative integer ms', () => {
    expect(() => assertTime('nowMs', undefined)).not.toThrow();
    expect(() => assertTime('nowMs', 0)).not.toThrow();
    expect(() => assertTime('nowMs', -1)).toThrow(RangeError);
    expect(() => assertTime('nowMs', 1.5)).toThrow(RangeError);
  });
});
