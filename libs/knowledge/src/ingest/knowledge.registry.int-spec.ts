import { deleteKeys, testRedis, uniqueName } from '@aip/testing';
import { InvalidIdError, KnowledgeRegistry } from './knowledge.registry.ts';

const redis = testRedis();
const prefix = `${uniqueName('kbreg')}:`;
const registry = new KnowledgeRegistry(redis, prefix);
const doc = { tenantId: 'acme', kbId: 'guides', docId: 'a/b:c' };

afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe('KnowledgeRegistry (Redis)', () => {
  it('creates a knowledge base once and lists it per tenant only', async () => {
    const first = await registry.createKnowledgeBase({ tenantId: 'acme', kbId: 'guides', chunkSize: 500, chunkOverlap: 50 });
    const again = await registry.createKnowledgeBase({ tenantId: 'acme', kbId: 'guides', chunkSize: 900, chunkOverlap: 10 });
    expect(first.created).toBe(true);
    expect(again).toEqual({ created: false, record: first.record });
    expect((await registry.listKnowledgeBases('acme')).map((kb) => kb.kbId)).toEqual(['guides']);
    expect(await registry.listKnowledgeBases('globex')).toEqual([]);
    expect(await registry.getKnowledgeBase('globex', 'guides')).toBeUndefined();
  });

  it('tracks a document from queued to indexed, and serves only the activated version', async () => {
    await registry.markQueued(doc, { title: 'Guide', mediaType: 'text/plain' });
    expect(await registry.getDocument(doc)).toMatchObject({ status: 'queued', title: 'Guide', progress: { done: 0, total: 0 } });
    await registry.startIndexing(doc, { version: 'v1', total: 10 });
    await registry.progress(doc, 4);
    expect(await registry.getDocument(doc)).toMatchObject({ status: 'indexing', version: 'v1', progress: { done: 4, total: 10 } });
    expect((await registry.activeVersions('acme', ['guides'])).get('guides')?.size).toBe(0);
    await registry.activate(doc, { version: 'v1', fingerprint: 'f1', chunks: 10, embedded: 6, reused: 4 });
    expect(await registry.getDocument(doc)).toMatchObject({ status: 'indexed', activeVersion: 'v1', chunks: 10, embedded: 6, reused: 4, progress: { done: 10, total: 10 } });
    // A failed replacement keeps the active version.
    await registry.startIndexing(doc, { version: 'v2', total: 3 });
    await registry.fail(doc, 'corrupt_pdf: bad', 'v2');
    expect(await registry.getDocument(doc)).toMatchObject({ status: 'failed', version: 'v2', activeVersion: 'v1', error: 'corrupt_pdf: bad' });
    expect(await registry.activeVersions('acme', ['guides', 'nothing'])).toEqual(new Map([['guides', new Map([['a/b:c', 'v1']])], ['nothing', new Map()]]));
    expect((await registry.activeVersions('globex', ['guides'])).get('guides')?.size).toBe(0);
    expect((await registry.listDocuments('acme', 'guides')).map((d) => d.docId)).toEqual(['a/b:c']);
  });

  it('stops serving a document as soon as its deletion starts, and forgets it at the end', async () => {
    const other = { ...doc, docId: 'other' };
    await registry.activate(other, { version: 'x', fingerprint: 'f', chunks: 1, embedded: 1, reused: 0 });
    await registry.startDeleting(other);
    expect((await registry.activeVersions('acme', ['guides'])).get('guides')?.has('other')).toBe(false);
    expect(await registry.getDocument(other)).toMatchObject({ status: 'deleting' });
    expect((await registry.getDocument(other))?.activeVersion).toBeUndefined();
    await registry.removeDocument(other);
    expect(await registry.getDocument(other)).toBeUndefined();
    expect((await registry.listDocuments('acme', 'guides')).map((d) => d.docId)).toEqual(['a/b:c']);
  });

  it('deletes a knowledge base with its documents', async () => {
    expect(await registry.deleteKnowledgeBase('acme', 'guides')).toBe(true);
    expect(await registry.getDocument(doc)).toBeUndefined();
    expect(await registry.listDocuments('acme', 'guides')).toEqual([]);
    expect(await registry.deleteKnowledgeBase('acme', 'guides')).toBe(false);
  });

  it('remembers a deleted knowledge base: no change re-creates it, no late activation serves into it, until it is created again', async () => {
    const kb = { tenantId: 'acme', kbId: 'tombstoned', chunkSize: 500, chunkOverlap: 50 };
    const late = { tenantId: 'acme', kbId: 'tombstoned', docId: 'late' };
    await registry.createKnowledgeBase(kb);
    expect(await registry.knowledgeBaseDeletedAt('acme', 'tombstoned')).toBeUndefined();
    await registry.startDeletingKnowledgeBase('acme', 'tombstoned');
    await registry.deleteKnowledgeBase('acme', 'tombstoned');
    expect(await registry.knowledgeBaseDeletedAt('acme', 'tombstoned')).toBeGreaterThan(0);
    expect(await redis.ttl(`${prefix}kb:deleted:acme:tombstoned`)).toBeGreaterThan(24 * 3_600);
    expect(await registry.ensureKnowledgeBase(kb)).toBeUndefined();
    expect(await registry.getKnowledgeBase('acme', 'tombstoned')).toBeUndefined();
    expect(await registry.activate(late, { version: 'v1', fingerprint: 'f', chunks: 1, embedded: 1, reused: 0 })).toBe(false);
    expect((await registry.activeVersions('acme', ['tombstoned'])).get('tombstoned')?.size).toBe(0);
    expect(await registry.getDocument(late)).toBeUndefined();
    // Created again through the API: changes and activations apply again.
    expect((await registry.createKnowledgeBase(kb)).created).toBe(true);
    expect(await registry.knowledgeBaseDeletedAt('acme', 'tombstoned')).toBeUndefined();
    expect(await registry.activate(late, { version: 'v1', fingerprint: 'f', chunks: 1, embedded: 1, reused: 0, changeId: 'c1' })).toBe(true);
    expect(await registry.getDocument(late)).toMatchObject({ status: 'indexed', activeVersion: 'v1', changeId: 'c1' });
    // A base no one deleted is created by the first change naming it.
    expect(await registry.ensureKnowledgeBase({ ...kb, kbId: 'fresh' })).toMatchObject({ kbId: 'fresh', chunkSize: 500 });
  });

  // Regression (issue 16): a lone surrogate in a doc id threw a URIError from encodeURIComponent
  // (a 500); a NUL version label was stored and then broke every search of the tenant (issue 14).
  it('refuses ids and labels that fail the id rule with InvalidIdError, and stores nothing', async () => {
    const bad = { tenantId: 'acme', kbId: 'guides', docId: 'half \uD800 pair' };
    await expect(registry.getDocument(bad)).rejects.toBeInstanceOf(InvalidIdError);
    await expect(registry.markQueued(bad, { mediaType: 'text/plain' })).rejects.toBeInstanceOf(InvalidIdError);
    const nul = { tenantId: 'acme', kbId: 'guides', docId: 'nul-version' };
    await expect(registry.markQueued(nul, { version: '\u0000' })).rejects.toMatchObject({ name: 'InvalidIdError', field: 'version' });
    await expect(registry.activate(nul, { version: 'v\n1', fingerprint: 'f', chunks: 1, embedded: 1, reused: 0 })).rejects.toBeInstanceOf(InvalidIdError);
    await expect(registry.createKnowledgeBase({ tenantId: 'acme', kbId: 'bad\u0007', chunkSize: 500, chunkOverlap: 0 })).rejects.toMatchObject({ field: 'kbId' });
    expect(await registry.getDocument(nul)).toBeUndefined();
    expect((await registry.activeVersions('acme', ['guides'])).get('guides')?.has('nul-version')).toBe(false);
  });
});
