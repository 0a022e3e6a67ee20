import { deleteKeys, testRedis, uniqueName } from '@aip/testing';
import type { Redis } from 'ioredis';
import { TaskEventHub } from './task-event.hub.ts';
import { TaskStore } from './task.store.ts';

describe('TaskEventHub (real Redis)', () => {
  let redis: Redis;
  let store: TaskStore;
  const prefix = `${uniqueName('it-hub')}:`;
  beforeAll(() => {
    redis = testRedis();
    store = new TaskStore(redis, { prefix });
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('skips a malformed stream entry, reports it, and still delivers the valid events around it', async () => {
    const reader = testRedis();
    const invalid: string[] = [];
    const hub = new TaskEventHub(reader, redis, prefix, (_key, id) => invalid.push(id));
    try {
      const key = `${prefix}task:{bad-entry}:events`;
      const badJson = await redis.xadd(key, '*', 'e', '{not json');
      const badShape = await redis.xadd(key, '*', 'e', JSON.stringify({ type: 'no-such-event' }));
      await store.append('bad-entry', [{ type: 'delta', text: 'after the bad ones' }]);
      const texts: string[] = [];
      for await (const { event } of hub.follow('bad-entry')) {
        texts.push(event.type === 'delta' ? event.text : event.type);
        break;
      }
      expect(texts).toEqual(['after the bad ones']);
      expect(invalid).toEqual([badJson, badShape]);
    } finally {
      await hub.close();
      reader.disconnect();
    }
  });

  it('fails the follower, not the process, when Redis refuses the subscription, and serves the next one', async () => {
    const reader = testRedis();
    let refuse = true;
    const writer = new Proxy(redis, {
      get: (target, name) => {
        if (name === 'xadd' && refuse) return () => Promise.reject(new Error('Connection is closed.'));
        const value = Reflect.get(target, name) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const hub = new TaskEventHub(reader, writer, prefix);
    try {
      await expect(hub.follow('refused').next()).rejects.toThrow('Connection is closed.');
      refuse = false;
      const following = hub.follow('after-refusal').next();
      await store.append('after-refusal', [{ type: 'delta', text: 'served' }]);
      expect((await following).value).toMatchObject({ event: { type: 'delta', text: 'served' } });
    } finally {
      await hub.close();
      reader.disconnect();
    }
  });

  it('refuses a cursor Redis would refuse, and the followers already waiting are still served (regression: one stalled them all)', async () => {
    const reader = testRedis();
    const hub = new TaskEventHub(reader, redis, prefix);
    try {
      const waiting = hub.follow('still-served').next();
      await expect(hub.follow('still-served', '99999999999999999999-0').next()).rejects.toThrow(RangeError);
      await expect(hub.follow('still-served', 'not-an-id').next()).rejects.toThrow('not a stream id');
      await store.append('still-served', [{ type: 'delta', text: 'served' }]);
      expect((await waiting).value).toMatchObject({ event: { type: 'delta', text: 'served' } });
    } finally {
      await hub.close();
      reader.disconnect();
    }
  });
});
