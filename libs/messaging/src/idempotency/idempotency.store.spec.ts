import { CONSUMER_GROUPS } from '@aip/contracts';
import { DEFAULT_BACKOFF, redeliveryWindowMs } from '../common/rocketmq.options.ts';
import { DEFAULT_DONE_TTL_MS } from './idempotency.store.ts';

describe('idempotency marker lifetime', () => {
  it('outlives the longest redelivery of any group with the default retry settings', () => {
    const mostAttempts = Math.max(...Object.values(CONSUMER_GROUPS).map((group) => group.maxAttempts));
    const window = redeliveryWindowMs(DEFAULT_BACKOFF, mostAttempts, 30_000);
    expect(window).toBeGreaterThan(60 * 60_000); // ~66 min: the markers must cover it
    expect(DEFAULT_DONE_TTL_MS).toBeGreaterThan(window);
  });

  it('is hours, not days: markers are written for every event handled', () => {
    expect(DEFAULT_DONE_TTL_MS).toBeLessThanOrEqual(3 * 3_600_000);
  });

  it('adds every lease and the backoff between attempts', () => {
    expect(redeliveryWindowMs({ initialMs: 1_000, multiplier: 2, maxMs: 3_000 }, 4, 10_000)).toBe(4 * 10_000 + 1_000 + 2_000 + 3_000);
  });
});
