import { readRealtimeGrant, REALTIME_GRANT_LIMITS } from './realtime-grant.ts';

describe('readRealtimeGrant', () => {
  it('reads the grant stored with the claims, and gives tokens without one the default cap', () => {
    expect(readRealtimeGrant({ tenantId: 't', keyId: 'k', userId: 'u', expiresAt: 1, models: ['extractive'], maxTokens: 256 })).toEqual({ models: ['extractive'], maxTokens: 256 });
    expect(readRealtimeGrant({ tenantId: 't', keyId: 'k', userId: 'u', expiresAt: 1 })).toEqual({ maxTokens: REALTIME_GRANT_LIMITS.defaultMaxTokens });
    expect(readRealtimeGrant({ models: [], maxTokens: 1e9 })).toEqual({ maxTokens: REALTIME_GRANT_LIMITS.defaultMaxTokens });
  });
});
