import { compilePolicy, rateLimitPolicySchema, type RateLimitPolicy } from './rate-limit-policy.schema.ts';

describe('rateLimitPolicySchema', () => {
  it('accepts a policy with every limit', () => {
    const policy = { id: 'pro', requestsPerMinute: 60, burst: 10, requestsPerDay: 10_000, tokensPerMinute: 90_000, maxConcurrent: 4, globalMaxConcurrent: 256 };
    expect(rateLimitPolicySchema.parse(policy)).toEqual(policy);
  });

  it('accepts fractional requests per minute (one request every two minutes)', () => {
    expect(rateLimitPolicySchema.safeParse({ id: 'slow', requestsPerMinute: 0.5 }).success).toBe(true);
  });

  it('rejects a misspelt limit instead of silently never enforcing it', () => {
    expect(rateLimitPolicySchema.safeParse({ id: 'typo', tokensPerMin: 1000 }).success).toBe(false);
  });

  it.each([
    ['zero rpm', { id: 'p', requestsPerMinute: 0 }],
    ['negative tpm', { id: 'p', tokensPerMinute: -1 }],
    ['fractional concurrency', { id: 'p', maxConcurrent: 1.5 }],
    ['burst without rpm', { id: 'p', burst: 5 }],
    ['empty id', { id: '' }],
  ])('rejects %s', (_name, policy) => {
    expect(rateLimitPolicySchema.safeParse(policy).success).toBe(false);
  });
});

describe('compilePolicy', () => {
  it('encodes limits in script order with empty strings for absent limits', () => {
    expect(compilePolicy({ id: 'p', requestsPerMinute: 10, tokensPerMinute: 500, globalMaxConcurrent: 3 })).toEqual(['10', '', '', '500', '', '3']);
  });

  it('validates each policy object once and reuses the result', () => {
    const policy: RateLimitPolicy = { id: 'p', requestsPerMinute: 5 };
    expect(compilePolicy(policy)).toBe(compilePolicy(policy));
  });

  it('throws on an invalid policy', () => {
    expect(() => compilePolicy({ id: 'p', requestsPerDay: -3 })).toThrow();
  });
});
