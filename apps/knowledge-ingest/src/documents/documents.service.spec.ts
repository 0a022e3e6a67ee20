import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { KnowledgeRegistry } from '@aip/knowledge';
import { PublishError } from '@aip/messaging';
import { ApiError } from '@aip/runtime';
import { pino } from 'pino';
import type { KbEvents } from '../common/kb-events.ts';
import { ContentStore } from '../content/content.store.ts';
import type { QuotaDecision, UploadQuota } from '../content/upload.quota.ts';
import { DocumentsService } from './documents.service.ts';

/** The quota's decisions in memory (the Redis script has its own integration spec). */
class MemoryQuota {
  readonly reservations = new Map<string, number>();
  constructor(readonly limits = { maxDocuments: 100, maxBytes: 1_000_000, ttlMs: 60_000 }) {}
  private decide(bytes: number): QuotaDecision {
    const usage = { documents: this.reservations.size, bytes: [...this.reservations.values()].reduce((a, b) => a + b, 0) };
    if (usage.documents + 1 > this.limits.maxDocuments) return { ok: false, limit: 'documents', usage };
    if (usage.bytes + bytes > this.limits.maxBytes) return { ok: false, limit: 'bytes', usage };
    return { ok: true, usage };
  }
  async check(_tenantId: string) {
    return this.decide(1);
  }
  async reserve(tenantId: string, ref: string, bytes: number) {
    const decision = this.decide(bytes);
    if (decision.ok) this.reservations.set(`${tenantId} ${ref}`, bytes);
    return decision;
  }
  async release(tenantId: string, ref: string) {
    this.reservations.delete(`${tenantId} ${ref}`);
  }
}
const asQuota = (quota: MemoryQuota) => quota as unknown as UploadQuota;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'documents-service-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('DocumentsService', () => {
  it('leaves no upload on disk when the document cannot be marked queued', async () => {
    const registry = {
      markQueued: async () => {
        throw new Error('redis unavailable');
      },
    } as unknown as KnowledgeRegistry;
    const published: unknown[] = [];
    const events = { publish: async (...args: unknown[]) => void published.push(args) } as unknown as KbEvents;
    const quota = new MemoryQuota();
    const service = new DocumentsService(registry, new ContentStore(join(dir, 'data'), join(dir, 'objects')), events, asQuota(quota), pino({ level: 'silent' }));
    await expect(service.submitJson('acme', 'kb', { mediaType: 'text/plain', content: 'hello' } as never)).rejects.toThrow('redis unavailable');
    expect(await storedFiles(join(dir, 'data', 'uploads'))).toEqual([]);
    expect(published).toEqual([]);
    // Nor a place in the quota.
    expect(quota.reservations.size).toBe(0);
  });

  function service(options: { publish?: () => Promise<unknown>; quota?: MemoryQuota } = {}) {
    const quota = options.quota ?? new MemoryQuota();
    const queued: { doc: { docId: string }; info: unknown }[] = [];
    const failed: string[] = [];
    const registry = {
      markQueued: async (doc: { docId: string }, info: unknown) => void queued.push({ doc, info }),
      fail: async (_doc: unknown, reason: string) => void failed.push(reason),
    } as unknown as KnowledgeRegistry;
    const published: { type: string; data: Record<string, unknown> }[] = [];
    const events = {
      publish: async (type: string, data: Record<string, unknown>) => {
        if (options.publish) await options.publish();
        published.push({ type, data });
        return { envelope: { id: 'e1' } };
      },
    } as unknown as KbEvents;
    return { documents: new DocumentsService(registry, new ContentStore(join(dir, 'data'), join(dir, 'objects')), events, asQuota(quota), pino({ level: 'silent' })), queued, failed, published, quota };
  }
  const file = (filename: string, body = 'hello') => ({ type: 'file' as const, fieldname: 'file', filename, mimetype: 'text/plain', file: Readable.from([Buffer.from(body)]) });
  const parts = (...items: unknown[]) => () => (async function* () {
    for (const item of items) {
      if (item instanceof Error) throw item;
      yield item as never;
    }
  })();
  const rejection = async (promise: Promise<unknown>) => {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    return { status: (error as ApiError).getStatus(), ...(error as ApiError).getResponse().error };
  };
  const uploads = () => storedFiles(join(dir, 'data', 'uploads'));

  // Regression (issue 16): busboy's errors for a body without a boundary (thrown when the parts
  // are requested) or with a wrong one (thrown while reading) were 500s.
  it('answers a multipart body it cannot read with a 400 in the platform shape, and keeps nothing', async () => {
    const { documents, published } = service();
    const noBoundary = () => {
      throw new Error('Multipart: Boundary not found');
    };
    expect(await rejection(documents.submitMultipart('acme', 'kb', noBoundary, 1_024))).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'malformed_multipart' });
    expect(await rejection(documents.submitMultipart('acme', 'kb', parts(new Error('Unexpected end of multipart data')), 1_024))).toMatchObject({ status: 400, code: 'malformed_multipart' });
    // A file that arrived before the body broke off is not left on disk.
    expect(await rejection(documents.submitMultipart('acme', 'kb', parts(file('a.txt'), new Error('Unexpected end of multipart data')), 1_024))).toMatchObject({ status: 400 });
    expect(await uploads()).toEqual([]);
    expect(published).toEqual([]);
  });

  it('lets errors that are not the body\'s fault through: Fastify limits to the error filter, disk errors as 500s', async () => {
    const { documents } = service();
    const limit = Object.assign(new Error('reach files limit'), { code: 'FST_FILES_LIMIT', statusCode: 413 });
    await expect(documents.submitMultipart('acme', 'kb', parts(limit), 1_024)).rejects.toBe(limit);
    const disk = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    await expect(documents.submitMultipart('acme', 'kb', parts(disk), 1_024)).rejects.toBe(disk);
  });

  it('derives a document id the id rule accepts from any file name, and refuses one that leaves nothing', async () => {
    const { documents, queued } = service();
    // 132 UTF-16 units; the 128th is the first half of the emoji.
    const long = `${'Quarterly travel report '.repeat(5)}${'x'.repeat(7)}\u{1F600}.md`;
    await documents.submitMultipart('acme', 'kb', parts(file(long)), 1_024);
    await documents.submitMultipart('acme', 'kb', parts(file('bell\u0007 and\ttab.txt')), 1_024);
    const [first, second] = queued.map((q) => q.doc.docId);
    expect(first).toBe(long.slice(0, 127));
    expect(first!.isWellFormed()).toBe(true);
    expect(second).toBe('bell andtab.txt');
    expect(await rejection(documents.submitMultipart('acme', 'kb', parts(file('\u0007\u0007')), 1_024))).toMatchObject({ status: 400, param: 'docId' });
  });

  // Regression (issue 15): a refused message (here: message group too long) was a permanent
  // "503 broker unavailable; retry shortly".
  it('answers a change the broker refuses with a 400 and records why, not "retry shortly"', async () => {
    const cause = Object.assign(new Error('message group exceed the max size 64'), { code: 40006 });
    const { documents, failed } = service({ publish: async () => Promise.reject(new PublishError('REJECTED', 'refused', { cause })) });
    expect(await rejection(documents.submitJson('acme', 'kb', { mediaType: 'text/plain', content: 'hello' } as never, 'd'))).toMatchObject({ status: 400, code: 'message_rejected' });
    expect(failed).toEqual([expect.stringMatching(/^the change was refused/)]);
    expect(await uploads()).toEqual([]);
  });

  it("holds a place in the tenant's quota for every accepted upload, with its size on disk", async () => {
    const { documents, quota } = service();
    await documents.submitMultipart('acme', 'kb', parts(file('a.txt', 'hello world')), 1_024);
    await documents.submitJson('acme', 'kb', { mediaType: 'text/plain', content: 'h\u00e9llo' } as never, 'b');
    expect([...quota.reservations.values()]).toEqual([11, 6]);
    expect([...quota.reservations.keys()].every((key) => /^acme local:uploads\//.test(key))).toBe(true);
  });

  it('answers 429 in the platform shape once the tenant is at its document quota, before storing or publishing anything', async () => {
    const quota = new MemoryQuota({ maxDocuments: 2, maxBytes: 1_000_000, ttlMs: 60_000 });
    const { documents, published } = service({ quota });
    await documents.submitJson('acme', 'kb', { mediaType: 'text/plain', content: 'one' } as never, 'd1');
    await documents.submitMultipart('acme', 'kb', parts(file('two.txt')), 1_024);
    let read = false;
    const untouched = () => {
      read = true;
      return parts(file('three.txt'))();
    };
    const multipart = await documents.submitMultipart('acme', 'kb', untouched, 1_024).then(() => undefined, (e: unknown) => e);
    expect(multipart).toBeInstanceOf(ApiError);
    expect((multipart as ApiError).getStatus()).toBe(429);
    expect((multipart as ApiError).getResponse().error).toMatchObject({ type: 'rate_limit_error', code: 'upload_quota_exceeded', message: expect.stringContaining('2 uploads waiting') });
    expect((multipart as ApiError).headers).toEqual({ 'retry-after': '10' });
    // The body was not even read.
    expect(read).toBe(false);
    expect(await rejection(documents.submitJson('acme', 'kb', { mediaType: 'text/plain', content: 'three' } as never, 'd3'))).toMatchObject({ status: 429, code: 'upload_quota_exceeded' });
    expect(published).toHaveLength(2);
    expect(await uploads()).toHaveLength(2);
  });

  it('answers 429 when the bytes waiting would pass the quota, and 413 for a file larger than the whole quota', async () => {
    const quota = new MemoryQuota({ maxDocuments: 100, maxBytes: 10, ttlMs: 60_000 });
    const { documents, published } = service({ quota });
    await documents.submitMultipart('acme', 'kb', parts(file('a.txt', '123456')), 1_024);
    expect(await rejection(documents.submitMultipart('acme', 'kb', parts(file('b.txt', '12345')), 1_024))).toMatchObject({ status: 429, code: 'upload_quota_exceeded', message: expect.stringContaining('10 bytes') });
    expect(await rejection(documents.submitMultipart('acme', 'kb', parts(file('c.txt', '12345678901')), 1_024))).toMatchObject({ status: 413, code: 'upload_quota_too_small', param: 'file' });
    expect(published).toHaveLength(1);
    expect(await uploads()).toHaveLength(1);
  });

  it('gives the place back when the change cannot be queued', async () => {
    const { documents, quota } = service({ publish: async () => Promise.reject(new PublishError('BROKER_UNAVAILABLE', 'down')) });
    expect(await rejection(documents.submitMultipart('acme', 'kb', parts(file('a.txt')), 1_024))).toMatchObject({ status: 503 });
    expect(quota.reservations.size).toBe(0);
  });
});

/** The files (not folders) under `root`, at any depth. */
async function storedFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}
