import type { ApiKeyRecord } from '@aip/keys';
import { ApiKeyCache, bearerSecret, KeyStoreUnavailableError } from './api-key.cache.ts';

const active: ApiKeyRecord = { id: 'k1', tenantId: 'acme', status: 'active', createdAt: 0, hint: 'sk-aip-abcd' };

function fakeStore() {
  const calls: string[] = [];
  const byId = new Map<string, ApiKeyRecord>([['k1', active], ['k2', { ...active, id: 'k2', status: 'revoked' }]]);
  let valid = new Map<string, ApiKeyRecord>([['sk-good', active]]);
  let down = false;
  return {
    calls,
    revokeAll: () => void (valid = new Map()),
    setDown: (value: boolean) => void (down = value),
    store: {
      authenticate: async (secret: string) => {
        calls.push(`secret:${secret}`);
        if (down) throw new Error('ECONNREFUSED');
        return valid.get(secret);
      },
      byId: async (id: string) => {
        calls.push(`id:${id}`);
        if (down) throw new Error('ECONNREFUSED');
        return byId.get(id);
      },
    },
  };
}

describe('ApiKeyCache', () => {
  it('reuses an answer within the TTL and asks again after it (a revoked key stops working)', async () => {
    let now = 1_000;
    const fake = fakeStore();
    const cache = new ApiKeyCache(fake.store, { ttlMs: 2_000, now: () => now });
    expect(await cache.authenticate('sk-good')).toBe(active);
    fake.revokeAll();
    now += 2_000;
    expect(await cache.authenticate('sk-good')).toBe(active);
    expect(fake.calls).toEqual(['secret:sk-good']);
    now += 1;
    expect(await cache.authenticate('sk-good')).toBeUndefined();
    expect(fake.calls).toEqual(['secret:sk-good', 'secret:sk-good']);
  });

  it('remembers unknown keys too, and keeps secrets and ids apart', async () => {
    const fake = fakeStore();
    const cache = new ApiKeyCache(fake.store, { now: () => 0 });
    expect(await cache.authenticate('k1')).toBeUndefined();
    expect(await cache.authenticate('k1')).toBeUndefined();
    expect(await cache.activeById('k1')).toBe(active);
    expect(fake.calls).toEqual(['secret:k1', 'id:k1']);
    // The cache holds digests, not secrets.
    expect(JSON.stringify([...(cache as unknown as { missing: Map<string, number> }).missing.keys()])).not.toContain('k1');
  });

  it('keeps serving valid keys from the cache while a flood of made-up secrets comes and goes', async () => {
    const fake = fakeStore();
    const cache = new ApiKeyCache(fake.store, { maxEntries: 100, now: () => 0 });
    expect(await cache.authenticate('sk-good')).toBe(active);
    for (let i = 0; i < 1_000; i++) await cache.authenticate(`sk-made-up-${i}`);
    fake.calls.length = 0;
    expect(await cache.authenticate('sk-good')).toBe(active);
    expect(fake.calls).toEqual([]); // still cached: the flood did not evict it
  });

  it('treats a revoked key looked up by id as absent', async () => {
    const cache = new ApiKeyCache(fakeStore().store);
    expect(await cache.activeById('k2')).toBeUndefined();
    expect(await cache.activeById('nope')).toBeUndefined();
  });

  it('reports an outage as KeyStoreUnavailableError and does not cache it', async () => {
    const fake = fakeStore();
    const cache = new ApiKeyCache(fake.store, { now: () => 0 });
    fake.setDown(true);
    await expect(cache.authenticate('sk-good')).rejects.toBeInstanceOf(KeyStoreUnavailableError);
    await expect(cache.activeById('k1')).rejects.toBeInstanceOf(KeyStoreUnavailableError);
    fake.setDown(false);
    expect(await cache.authenticate('sk-good')).toBe(active);
  });

  it('stays bounded: past maxEntries it starts over instead of growing', async () => {
    const fake = fakeStore();
    const cache = new ApiKeyCache(fake.store, { maxEntries: 2, now: () => 0 });
    await cache.authenticate('a');
    await cache.authenticate('b');
    await cache.authenticate('c'); // clears, then holds only c
    await cache.authenticate('c');
    await cache.authenticate('a');
    expect(fake.calls).toEqual(['secret:a', 'secret:b', 'secret:c', 'secret:a']);
  });
});

describe('bearerSecret', () => {
  it('takes the secret of a Bearer header only', () => {
    expect(bearerSecret('Bearer sk-1 ')).toBe('sk-1');
    expect(bearerSecret('Bearer ')).toBeUndefined();
    expect(bearerSecret('Basic abc')).toBeUndefined();
    expect(bearerSecret(undefined)).toBeUndefined();
  });
});
