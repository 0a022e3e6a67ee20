import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ConfigDocuments, HISTORY_LENGTH } from './config-documents.ts';

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

  it('keeps each version, a deletion as a null body, newest first and bounded; a watcher sees the deletion', async () => {
    const documents = new ConfigDocuments(redis, prefix);
    await documents.put('routing', { models: { a: {} } });
    await documents.put('routing', { models: { b: {} } });
    const deleted = await documents.put('routing', null);
    expect(await documents.get('routing')).toEqual({ version: 3, body: null });
    const history = await documents.history('routing');
    expect(history.map(({ version, body }) => ({ version, body }))).toEqual([
      { version: 3, body: null },
      { version: 2, body: { models: { b: {} } } },
      { version: 1, body: { models: { a: {} } } },
    ]);
    expect(Number.isNaN(Date.parse(history[0]!.at))).toBe(false);
    expect((await documents.version('routing', 1))?.body).toEqual({ models: { a: {} } });
    expect(await documents.version('routing', 9)).toBeUndefined();

    const seen: unknown[] = [];
    const watching = documents.watch('routing', (document) => void seen.push(document), 60_000);
    await watching.catchUp();
    watching.stop();
    expect(seen).toEqual([deleted]);

    for (let i = 0; i < HISTORY_LENGTH + 5; i++) await documents.put('intents', { i });
    const kept = await documents.history('intents');
    expect(kept).toHaveLength(HISTORY_LENGTH);
    expect(kept[0]!.version).toBe(HISTORY_LENGTH + 5);
  });
});
