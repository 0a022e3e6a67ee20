import { deleteKeys, testRedis, uniqueName } from '@aip/testing';
import type { Redis } from 'ioredis';
import type { Candidate } from '../analysis/analyser.ts';
import { ActivityStore, type SessionRef } from './activity.store.ts';
import { UserStateStore } from './user-state.store.ts';

// The stores on the real Redis: what the shard worker and the notice path rely on.
const prefix = `${uniqueName('it-intent-state')}:`;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 22, 12, 0);
let redis: Redis;
let activity: ActivityStore;
let users: UserStateStore;

beforeAll(() => {
  redis = testRedis();
  activity = new ActivityStore(redis, { prefix: `${prefix}a:`, shards: 1, windowMs: 24 * HOUR });
  users = new UserStateStore(redis, `${prefix}u:`);
});

afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

const candidate = (dueAt: number): Candidate => ({ intent: 'unanswered_question', slots: {}, text: 'Still there?', score: 1, dueAt, expiresAt: dueAt + HOUR });

describe('ActivityStore on Redis', () => {
  it('finds a due prompt by its time however many newer sessions the shard has', async () => {
    const early: SessionRef = { tenantId: 'acme', sessionId: 'early', userId: 'u0' };
    await activity.answered(early, 't0', T0);
    await activity.saveCandidates(early, T0, [candidate(T0 + 10 * 60_000)]);
    for (let i = 1; i <= 5; i++) await activity.answered({ tenantId: 'acme', sessionId: `s${i}`, userId: `u${i}` }, `t${i}`, T0 + i * 1_000);
    expect((await activity.sessions(0, T0 + 10 * 60_000, 3)).map((r) => r.sessionId)).not.toContain('early');
    expect(await activity.due(0, T0 + 10 * 60_000 - 1, 3)).toEqual([]);
    expect(await activity.due(0, T0 + 10 * 60_000, 3)).toEqual([early]);
    await activity.saveCandidates(early, T0, []); // decided: leaves the due index
    expect(await activity.due(0, T0 + HOUR, 3)).toEqual([]);
  });

  it('leaves no answered request pending, whichever of "the user spoke" and "the answer finished" is consumed first, even at once', async () => {
    const ref: SessionRef = { tenantId: 'acme', sessionId: 'racing', userId: 'u7' };
    for (let i = 0; i < 10; i++) {
      const [spoke, done] = [() => activity.userSpoke(ref, `r${i}`, T0 + i, HOUR), () => activity.answered(ref, `r${i}`, T0 + i)];
      await (i % 2 === 0 ? Promise.all([spoke(), done()]) : Promise.all([done(), spoke()]));
      expect(await activity.state(ref)).toMatchObject({ lastUserAt: T0 + i, lastActivityAt: T0 + i });
      expect((await activity.state(ref))?.pendingTaskId).toBeUndefined();
    }
    // A request still running is pending until its answer.
    await activity.userSpoke(ref, 'running', T0 + 20, HOUR);
    expect(await activity.state(ref)).toMatchObject({ pendingTaskId: 'running', pendingUntil: T0 + 20 + HOUR });
    await activity.answered(ref, 'running', T0 + 21);
    expect((await activity.state(ref))?.pendingTaskId).toBeUndefined();
  });

  it('does not bring back an expired session hash, and drops its due entry', async () => {
    const gone: SessionRef = { tenantId: 'acme', sessionId: 'gone', userId: 'u9' };
    await activity.answered(gone, 't9', T0);
    await activity.saveCandidates(gone, T0, [candidate(T0)]);
    await redis.del(`${prefix}a:session:{acme:gone}`); // its TTL ran out
    expect(await activity.saveCandidates(gone, T0, [candidate(T0)])).toBe(false);
    expect(await redis.exists(`${prefix}a:session:{acme:gone}`)).toBe(0);
    expect(await activity.due(0, T0 + HOUR, 10)).toEqual([]);
  });
});

describe('a deleted conversation', () => {
  it('leaves no state, no place among the active sessions and no due prompt', async () => {
    const ref: SessionRef = { tenantId: 'acme', sessionId: 'deleted-one', userId: 'u-del' };
    await activity.answered(ref, 't1', T0);
    await activity.saveCandidates(ref, T0, [candidate(T0 + 60_000)]);
    expect(await activity.due(0, T0 + 60_000, 100)).toContainEqual(ref);
    await activity.deleteSession(ref);
    expect(await activity.state(ref)).toBeUndefined();
    expect(await activity.sessions(0, T0 + 60_000, 100)).not.toContainEqual(ref);
    expect(await activity.due(0, T0 + 60_000, 100)).not.toContainEqual(ref);
  });
});

describe('UserStateStore on Redis', () => {
  it('lets exactly the cap through when pushes race, and a released push can be taken again', async () => {
    const taken = await Promise.all(Array.from({ length: 10 }, () => users.reserveDaily('acme', 'u1', '2026-11-22', 3)));
    expect(taken.filter(Boolean)).toHaveLength(3);
    expect((await users.history('acme', 'u1', 'any', '2026-11-22')).sentToday).toBe(3);
    await users.releaseDaily('acme', 'u1', '2026-11-22');
    expect(await users.reserveDaily('acme', 'u1', '2026-11-22', 3)).toBe(true);
    expect(await users.reserveDaily('acme', 'u1', '2026-11-22', 3)).toBe(false);
    expect(await redis.pttl(`${prefix}u:user:{acme:u1}:sent:2026-11-22`)).toBeGreaterThan(0);
  });

  it('returns per term only the most recently interested users, of the tenant only', async () => {
    for (let i = 0; i < 5; i++) await users.recordInterests('acme', `user-${i}`, ['Beijing'], T0 + i, 30 * 24 * HOUR);
    await users.recordInterests('other', 'stranger', ['Beijing'], T0 + 10, 30 * 24 * HOUR);
    const found = await users.usersInterestedIn('acme', ['beijing'], T0 + 10, 30 * 24 * HOUR, 2);
    expect([...found.keys()].sort()).toEqual(['user-3', 'user-4']);
  });
});
