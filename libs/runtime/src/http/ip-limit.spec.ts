import { IpLimiter } from './ip-limit.ts';

describe('IpLimiter', () => {
  it('allows N requests per IP and second, then refuses until the next second', () => {
    const limiter = new IpLimiter(2);
    expect([limiter.allow('a', 1_000), limiter.allow('a', 1_100), limiter.allow('a', 1_200), limiter.allow('b', 1_300)]).toEqual([true, true, false, true]);
    expect(limiter.allow('a', 2_000)).toBe(true);
  });

  it('is off at 0', () => {
    expect(new IpLimiter(0).allow('a')).toBe(true);
  });
});
