import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ConfigDocuments } from './config-documents.ts';

// Real Redis (REDIS_URL). No dependency on @aip/testing: that lib builds on this one.
const prefix = `aip:it:config:${randomUUID()}:`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('ConfigDocuments (real Redis)', () => {
  it('stores the document of the highest version when writers race (version and body change together)', async () => {
    const writers = Array.from({ length: 8 }, () => new ConfigDocuments(redis.duplicate(), prefix));
    const written = await Promise.all(Array.from({ length: 200 }, (_, i) => writers[i % writers.length]!.put('words', { words: [`w${i}`] })));
    const stored = await new ConfigDocuments(redis, prefix).get<{ words: string[] }>('words');
    const newest = written.reduce((a, b) => (b.version > a.version ? b : a));
    expect(stored).toEqual(newest);
    expect(new Set(written.map((document) => document.version)).size).toBe(200);
    for (const writer of writers) (writer as unknown as { redis: Redis }).redis.disconnect();
  });
});
