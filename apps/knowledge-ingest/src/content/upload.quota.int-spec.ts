import { deleteKeys, testRedis, uniqueName } from '@aip/testing';
import { UploadQuota } from './upload.quota.ts';

const redis = testRedis();
const prefix = `${uniqueName('kbquota')}:`;
let now = 1_000_000;
const quota = (limits: Partial<UploadQuota['limits']> = {}) => new UploadQuota(redis, prefix, { maxDocuments: 3, maxBytes: 1_000, ttlMs: 60_000, ...limits }, () => now);
let tenant = 0;
const nextTenant = () => `tenant-${++tenant}`;

afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe('UploadQuota (Redis)', () => {
  it('refuses the upload beyond the document limit, until one is released', async () => {
    const q = quota();
    const acme = nextTenant();
    for (const ref of ['a', 'b', 'c']) expect(await q.reserve(acme, ref, 10)).toMatchObject({ ok: true });
    expect(await q.check(acme)).toEqual({ ok: false, limit: 'documents', usage: { documents: 3, bytes: 30 } });
    expect(await q.reserve(acme, 'd', 10)).toMatchObject({ ok: false, limit: 'documents' });
    // Another tenant is not affected.
    expect(await q.reserve(nextTenant(), 'a', 10)).toMatchObject({ ok: true });
    await q.release(acme, 'b');
    await q.release(acme, 'b');
    expect(await q.reserve(acme, 'd', 10)).toMatchObject({ ok: true, usage: { documents: 2, bytes: 20 } });
  });

  it('refuses an upload that would take the tenant past its byte limit, and one larger than the whole limit', async () => {
    const q = quota({ maxDocuments: 10 });
    const acme = nextTenant();
    expect(await q.reserve(acme, 'a', 600)).toMatchObject({ ok: true });
    expect(await q.reserve(acme, 'b', 401)).toEqual({ ok: false, limit: 'bytes', usage: { documents: 1, bytes: 600 } });
    expect(await q.reserve(acme, 'b', 400)).toMatchObject({ ok: true });
    expect(await q.check(acme)).toMatchObject({ ok: false, limit: 'bytes' });
    expect(await q.reserve(nextTenant(), 'huge', 1_001)).toMatchObject({ ok: false, limit: 'bytes' });
  });

  it('counts a reservation made twice once', async () => {
    const q = quota();
    const acme = nextTenant();
    await q.reserve(acme, 'a', 10);
    expect(await q.reserve(acme, 'a', 10)).toMatchObject({ ok: true, usage: { documents: 1, bytes: 10 } });
    expect(await q.check(acme)).toMatchObject({ ok: true, usage: { documents: 1, bytes: 10 } });
  });

  it('gives exactly the free places to concurrent uploads (one atomic decision each)', async () => {
    const q = quota({ maxDocuments: 5 });
    const acme = nextTenant();
    const decisions = await Promise.all(Array.from({ length: 20 }, (_, i) => q.reserve(acme, `ref-${i}`, 1)));
    expect(decisions.filter((d) => d.ok)).toHaveLength(5);
  });

  it('stops counting a reservation nobody released once it is older than the TTL', async () => {
    const q = quota({ maxDocuments: 1, ttlMs: 60_000 });
    const acme = nextTenant();
    expect(await q.reserve(acme, 'lost', 10)).toMatchObject({ ok: true });
    now += 59_999;
    expect(await q.check(acme)).toMatchObject({ ok: false, limit: 'documents' });
    now += 2;
    expect(await q.reserve(acme, 'next', 10)).toEqual({ ok: true, usage: { documents: 0, bytes: 0 } });
  });
});
