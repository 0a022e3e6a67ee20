import { Redis } from 'ioredis';

export function testRedisUrl(): string {
  return process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
}

/** A Redis client for a test; close it in afterAll. */
export function testRedis(): Redis {
  return new Redis(testRedisUrl(), { maxRetriesPerRequest: 2, lazyConnect: false });
}
