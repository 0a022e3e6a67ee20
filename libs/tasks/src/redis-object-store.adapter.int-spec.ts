import { testRedis, uniqueName } from '@aip/testing';
import type { Redis } from 'ioredis';
import { ClaimCheck } from './claim-check.ts';
import { RedisObjectStore } from './redis-object-store.adapter.ts';

describe('RedisObjectStore (real Redis)', () => {
  let redis: Redis;
  const prefix = `${uniqueName('it-objects')}:`;
  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('gives back every byte as stored (all 256 values, a 5 MiB image) until the expiry, which Redis enforces', async () => {
    const store = new RedisObjectStore(redis, prefix);
    const bytes = new Uint8Array(5 * 1024 * 1024).map((_, i) => i % 256);
    await store.put('acme/t1/0', bytes, new Date(Date.now() + 60_000));
    expect(Buffer.from((await store.get('acme/t1/0'))!).equals(Buffer.from(bytes))).toBe(true);
    const ttl = await redis.pttl(`${prefix}object:acme/t1/0`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await store.get('acme/t1/missing')).toBeUndefined();
    await store.put('acme/t1/1', bytes, new Date(Date.now() - 1));
    expect(await store.get('acme/t1/1')).toBeUndefined();
  });

  it('serves a claim check across instances: what one app stores, another redeems for the same tenant and task only', async () => {
    const edge = new ClaimCheck(new RedisObjectStore(redis, prefix));
    const worker = new ClaimCheck(new RedisObjectStore(redis.duplicate(), prefix));
    const ref = await edge.check('acme', 'task-9', 0, { bytes: new Uint8Array([1, 2, 3]), mediaType: 'image/png' });
    expect([...(await worker.redeem('acme', 'task-9', ref))]).toEqual([1, 2, 3]);
    await expect(worker.redeem('globex', 'task-9', ref)).rejects.toMatchObject({ reason: 'forbidden' });
  });
});
