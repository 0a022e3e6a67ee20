import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { deleteKeys, testRedis } from './redis.ts';

/** What an integration suite gets from `useTestRedis`. */
export interface TestRedis {
  /** The suite's own key prefix, `<base><uuid>:`: runs that share Redis never see each other's keys. */
  readonly prefix: string;
  /** The suite's connection. */
  readonly redis: Redis;
  /** A second connection: another replica of whatever the test runs. */
  readonly other: Redis;
}

/**
 * Two Redis connections and a key prefix of its own for one integration suite. Call it at the top
 * of a spec file: it opens both connections in `beforeAll`, and in `afterAll` deletes every key
 * under the prefix and closes them. `redis` and `other` exist from `beforeAll` on: read them in
 * tests and hooks, not when the module loads.
 */
export function useTestRedis(base: string): TestRedis {
  const prefix = `${base}${randomUUID()}:`;
  let connections: { redis: Redis; other: Redis } | undefined;
  beforeAll(() => {
    connections = { redis: testRedis(), other: testRedis() };
  });
  afterAll(async () => {
    if (!connections) return;
    const { redis, other } = connections;
    connections = undefined;
    try {
      await deleteKeys(redis, prefix);
    } finally {
      redis.disconnect();
      other.disconnect();
    }
  });
  const open = () => {
    if (!connections) throw new Error('useTestRedis: the connections are open from beforeAll to afterAll only');
    return connections;
  };
  return {
    prefix,
    get redis() {
      return open().redis;
    },
    get other() {
      return open().other;
    },
  };
}
