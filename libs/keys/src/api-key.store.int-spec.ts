import { testRedis, uniqueName } from '@aip/testing';
import type { Redis } from 'ioredis';
import { apiKeyInputSchema, ApiKeyStore } from './api-key.store.ts';

describe('ApiKeyStore (real Redis)', () => {
  let redis: Redis;
  let store: ApiKeyStore;
  beforeAll(() => {
    redis = testRedis();
    store = new ApiKeyStore(redis, `${uniqueName('it-keys')}:`);
  });
  afterAll(() => redis.disconnect());

  it('authenticates a created key and never stores the secret', async () => {
    const { key, record } = await store.create({ tenantId: 'acme', models: ['extractive'] });
    expect(await store.authenticate(key)).toEqual(record);
    const everything = await redis.keys('*it-keys*');
    const values = await Promise.all(everything.map((k) => redis.type(k).then((t) => (t === 'string' ? redis.get(k) : ''))));
    expect(values.join(' ')).not.toContain(key);
  });

  it('rotation keeps the key id and invalidates the old secret; revocation invalidates the key', async () => {
    const { key, record } = await store.create({ tenantId: 'acme' });
    const rotated = await store.rotate(record.id);
    expect(rotated?.record.id).toBe(record.id);
    expect(await store.authenticate(key)).toBeUndefined();
    expect(await store.authenticate(rotated!.key)).toMatchObject({ id: record.id });
    await store.revoke(record.id);
    expect(await store.authenticate(rotated!.key)).toBeUndefined();
    expect(await store.byId(record.id)).toMatchObject({ status: 'revoked' });
  });

  it('lists only the tenant\'s own keys', async () => {
    const a = await store.create({ tenantId: 'tenant-a' });
    await store.create({ tenantId: 'tenant-b' });
    expect((await store.list('tenant-a')).map((r) => r.id)).toEqual([a.record.id]);
  });

  it('refuses tenant ids that could spell another tenant\'s Redis keys, with the field named', () => {
    for (const tenantId of ['acme:bob', 'a/b', '{acme}', 'acme bob', '']) {
      const parsed = apiKeyInputSchema.safeParse({ tenantId });
      expect(parsed.success ? 'accepted' : parsed.error.issues[0]?.path).toEqual(['tenantId']);
    }
    expect(apiKeyInputSchema.safeParse({ tenantId: 'acme-eu.prod_2' }).success).toBe(true);
  });
});
