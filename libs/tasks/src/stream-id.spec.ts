import { compareStreamIds, isStreamId } from './stream-id.ts';

describe('stream ids', () => {
  it('accepts what Redis accepts as a stream cursor and nothing else', () => {
    expect(['0-0', '1712345678901-0', '18446744073709551615-18446744073709551615'].filter(isStreamId)).toHaveLength(3);
    expect(['18446744073709551616-0', '0-18446744073709551616', '99999999999999999999-0', '1', '-1-0', '1-', ' 1-0', '1-0\n', '$', '+'].filter(isStreamId)).toEqual([]);
  });

  it('orders ids by time, then by sequence, beyond what a JavaScript number holds exactly', () => {
    expect(compareStreamIds('1-5', '2-0')).toBeLessThan(0);
    expect(compareStreamIds('2-0', '1-5')).toBeGreaterThan(0);
    expect(compareStreamIds('7-3', '7-3')).toBe(0);
    expect(compareStreamIds('18446744073709551615-1', '18446744073709551614-9')).toBeGreaterThan(0);
    expect(compareStreamIds('9007199254740993-0', '9007199254740992-0')).toBeGreaterThan(0);
  });
});
