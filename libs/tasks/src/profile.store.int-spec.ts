import { useTestRedis } from '@aip/testing';
import { ProfileStore } from './profile.store.ts';

describe('ProfileStore (real Redis)', () => {
  const redis = useTestRedis('it-profiles-');
  const store = () => new ProfileStore(redis.redis, { prefix: redis.prefix });

  it('writes where inference reads it, per tenant: another tenant with the same user id has none', async () => {
    await store().put('acme', 'u1', { displayName: 'Ada' });
    expect(await redis.redis.hget(`${redis.prefix}user:{acme:u1}:profile`, 'profile')).toBe('{"displayName":"Ada"}');
    expect(await store().forPrompt('acme', 'u1')).toEqual({ displayName: 'Ada' });
    expect(await store().get('globex', 'u1')).toBeUndefined();
    expect(await store().forPrompt('acme', undefined)).toBeUndefined();
  });

  it('keeps the revision growing across a deletion, so late events can be told apart', async () => {
    const first = await store().put('acme', 'u2', { language: 'en' });
    const deleted = await store().delete('acme', 'u2');
    expect(await store().get('acme', 'u2')).toBeUndefined();
    expect(await store().delete('acme', 'u2')).toBeUndefined();
    const again = await store().patch('acme', 'u2', { timeZone: 'UTC' });
    expect([first.revision, deleted?.revision, again.revision]).toEqual([1, 2, 3]);
    expect(again.profile).toEqual({ timeZone: 'UTC' });
    // The deleted profile's key only lives on (with its revision) until it is written again.
    expect(await redis.redis.pttl(`${redis.prefix}user:{acme:u2}:profile`)).toBe(-1);
  });

  it('applies concurrent patches from two instances without losing one', async () => {
    const [a, b] = [new ProfileStore(redis.redis, { prefix: redis.prefix }), new ProfileStore(redis.other, { prefix: redis.prefix })];
    await a.put('acme', 'u3', {});
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).patch('acme', 'u3', { preferences: { [`p${i}`]: String(i) } })));
    const stored = await a.get('acme', 'u3');
    expect(Object.keys(stored?.profile.preferences ?? {}).sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9']);
    expect(stored?.revision).toBe(11);
  });
});
