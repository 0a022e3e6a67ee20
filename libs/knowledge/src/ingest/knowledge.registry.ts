import { idProblem } from '@aip/contracts';
import type { Redis } from 'ioredis';
import type { ChunkSettings } from './text.chunker.ts';

export interface DocumentRef {
  readonly tenantId: string;
  readonly kbId: string;
  readonly docId: string;
}

export interface KnowledgeBaseRecord extends ChunkSettings {
  readonly tenantId: string;
  readonly kbId: string;
  readonly name?: string;
  readonly description?: string;
  readonly createdAt: number;
}

export type DocumentStatus = 'queued' | 'indexing' | 'indexed' | 'failed' | 'deleting';

export interface DocumentRecord extends DocumentRef {
  readonly status: DocumentStatus;
  /** The version being indexed, or the last one that was. */
  readonly version?: string;
  /** The version searches serve; absent until a first version is fully stored. */
  readonly activeVersion?: string;
  readonly title?: string;
  readonly mediaType?: string;
  /** Chunks of `version` embedded-or-reused so far, out of `total`. */
  readonly progress: { readonly done: number; readonly total: number };
  /** Chunks of the active version. */
  readonly chunks?: number;
  readonly embedded?: number;
  readonly reused?: number;
  readonly error?: string;
  readonly updatedAt: number;
  readonly indexedAt?: number;
  /** Fingerprint of the active version's content and chunk settings (detects a changed body under a reused version label). */
  readonly fingerprint?: string;
  /** Keywords of the active version. */
  readonly keywords?: string[];
  /** Id of the change that made the active version (a redelivered change is recognised by it). */
  readonly changeId?: string;
}

/** What retrieval needs from the registry: per knowledge base, the version of each document that may be served. */
export interface ActiveVersionSource {
  activeVersions(tenantId: string, kbIds: readonly string[]): Promise<Map<string, Map<string, string>>>;
}

/**
 * An id the registry will not key or store: it fails the platform's one id rule (from the
 * contracts). Every entry point checks ids first, so reaching this is a bug in a caller.
 */
export class InvalidIdError extends Error {
  override readonly name = 'InvalidIdError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

/** Ids in keys: URI-encoded, and never an unpaired surrogate (`encodeURIComponent` throws a URIError on one). */
function enc(value: string): string {
  if (!value.isWellFormed()) throw new InvalidIdError('id', 'must be valid Unicode text (it contains an unpaired surrogate)');
  return encodeURIComponent(value);
}

/** Refuses to write a record under an id (or with a version label) that fails the id rule. */
function storable(ids: { tenantId: string; kbId: string; docId?: string; version?: string | undefined }): void {
  for (const [field, value] of Object.entries(ids)) {
    if (value === undefined) continue;
    const problem = idProblem(value);
    if (problem) throw new InvalidIdError(field, problem);
  }
}

/** How long a deleted knowledge base is remembered: longer than any change can wait in its queue. */
export const KNOWLEDGE_BASE_TOMBSTONE_TTL_SECONDS = 7 * 24 * 3_600;

/** Activation unless the knowledge base was deleted (tombstone): the check and the writes are one step. */
const ACTIVATE = `
if redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('HDEL', KEYS[1], 'error')
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
return 1`;

/**
 * Knowledge bases and their documents in Redis: status and progress for the API, and the ACTIVE
 * version of every document, which is what retrieval serves (`SearchQuery.versions`). Switching a
 * document to a new version is one HSET on the active map, done only after every chunk of the new
 * version is stored: a search sees the old version or the new one, never a mix.
 *
 * Keys (under the prefix): `kb:bases:{tenant}` (kbId → record), `kb:docs:{tenant}:{kb}` (set of
 * docIds), `kb:doc:{tenant}:{kb}:{doc}` (document hash), `kb:active:{tenant}:{kb}` (docId → version),
 * `kb:deleted:{tenant}:{kb}` (deletion time, expiring): a deleted knowledge base is not brought
 * back by changes still queued for it, nor by an ingest that was running when it was deleted.
 */
export class KnowledgeRegistry implements ActiveVersionSource {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = '',
    private readonly tombstoneTtlSeconds = KNOWLEDGE_BASE_TOMBSTONE_TTL_SECONDS,
  ) {}

  private basesKey(tenantId: string) {
    return `${this.prefix}kb:bases:${enc(tenantId)}`;
  }
  private docsKey(tenantId: string, kbId: string) {
    return `${this.prefix}kb:docs:${enc(tenantId)}:${enc(kbId)}`;
  }
  private docKey(doc: DocumentRef) {
    return `${this.prefix}kb:doc:${enc(doc.tenantId)}:${enc(doc.kbId)}:${enc(doc.docId)}`;
  }
  private activeKey(tenantId: string, kbId: string) {
    return `${this.prefix}kb:active:${enc(tenantId)}:${enc(kbId)}`;
  }
  private deletedKey(tenantId: string, kbId: string) {
    return `${this.prefix}kb:deleted:${enc(tenantId)}:${enc(kbId)}`;
  }

  // Knowledge bases -------------------------------------------------------------------------

  /**
   * Creates the knowledge base unless it exists; returns the stored record and whether it was new.
   * An explicit creation: a deletion tombstone of the same id is cleared.
   */
  async createKnowledgeBase(record: Omit<KnowledgeBaseRecord, 'createdAt'>): Promise<{ record: KnowledgeBaseRecord; created: boolean }> {
    storable({ tenantId: record.tenantId, kbId: record.kbId });
    const full: KnowledgeBaseRecord = { ...record, createdAt: Date.now() };
    const created = (await this.redis.hsetnx(this.basesKey(record.tenantId), record.kbId, JSON.stringify(full))) === 1;
    if (created) await this.redis.del(this.deletedKey(record.tenantId, record.kbId));
    return { record: created ? full : (await this.getKnowledgeBase(record.tenantId, record.kbId))!, created };
  }

  /** A knowledge base named only by a change: created unless it was deleted (undefined then). */
  async ensureKnowledgeBase(record: Omit<KnowledgeBaseRecord, 'createdAt'>): Promise<KnowledgeBaseRecord | undefined> {
    storable({ tenantId: record.tenantId, kbId: record.kbId });
    const existing = await this.getKnowledgeBase(record.tenantId, record.kbId);
    if (existing) return existing;
    if ((await this.knowledgeBaseDeletedAt(record.tenantId, record.kbId)) !== undefined) return undefined;
    const full: KnowledgeBaseRecord = { ...record, createdAt: Date.now() };
    const created = (await this.redis.hsetnx(this.basesKey(record.tenantId), record.kbId, JSON.stringify(full))) === 1;
    return created ? full : this.getKnowledgeBase(record.tenantId, record.kbId);
  }

  /** When the knowledge base was deleted (ms), if it was within the tombstone TTL and not created again since. */
  async knowledgeBaseDeletedAt(tenantId: string, kbId: string): Promise<number | undefined> {
    const raw = await this.redis.get(this.deletedKey(tenantId, kbId));
    return raw === null ? undefined : Number(raw);
  }

  /**
   * First step of deleting a knowledge base: leaves the tombstone (no change re-creates it, no
   * running ingest activates into it) and stops serving every document. The record stays until
   * `deleteKnowledgeBase`, after the chunks are gone, so a failed deletion can be repeated.
   */
  async startDeletingKnowledgeBase(tenantId: string, kbId: string): Promise<void> {
    await this.redis.multi().set(this.deletedKey(tenantId, kbId), Date.now(), 'EX', this.tombstoneTtlSeconds).del(this.activeKey(tenantId, kbId)).exec();
  }

  async getKnowledgeBase(tenantId: string, kbId: string): Promise<KnowledgeBaseRecord | undefined> {
    const raw = await this.redis.hget(this.basesKey(tenantId), kbId);
    return raw ? (JSON.parse(raw) as KnowledgeBaseRecord) : undefined;
  }

  async listKnowledgeBases(tenantId: string): Promise<KnowledgeBaseRecord[]> {
    const all = await this.redis.hvals(this.basesKey(tenantId));
    return all.map((raw) => JSON.parse(raw) as KnowledgeBaseRecord).sort((a, b) => a.createdAt - b.createdAt || a.kbId.localeCompare(b.kbId));
  }

  /** Forgets the knowledge base and its documents (the caller removes the chunks from the store). */
  async deleteKnowledgeBase(tenantId: string, kbId: string): Promise<boolean> {
    const docIds = await this.redis.smembers(this.docsKey(tenantId, kbId));
    const multi = this.redis.multi().set(this.deletedKey(tenantId, kbId), Date.now(), 'EX', this.tombstoneTtlSeconds, 'NX').hdel(this.basesKey(tenantId), kbId).del(this.activeKey(tenantId, kbId), this.docsKey(tenantId, kbId));
    for (const docId of docIds) multi.del(this.docKey({ tenantId, kbId, docId }));
    const results = await multi.exec();
    return results?.[1]?.[1] === 1;
  }

  // Documents -------------------------------------------------------------------------------

  async getDocument(doc: DocumentRef): Promise<DocumentRecord | undefined> {
    const hash = await this.redis.hgetall(this.docKey(doc));
    return Object.keys(hash).length > 0 ? toRecord(doc, hash) : undefined;
  }

  async listDocuments(tenantId: string, kbId: string): Promise<DocumentRecord[]> {
    const docIds = (await this.redis.smembers(this.docsKey(tenantId, kbId))).sort();
    if (docIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const docId of docIds) pipeline.hgetall(this.docKey({ tenantId, kbId, docId }));
    const results = (await pipeline.exec()) ?? [];
    return docIds.flatMap((docId, i) => {
      const hash = results[i]?.[1] as Record<string, string> | undefined;
      return hash && Object.keys(hash).length > 0 ? [toRecord({ tenantId, kbId, docId }, hash)] : [];
    });
  }

  /** An upload or change was accepted and waits in the document's queue. */
  async markQueued(doc: DocumentRef, info: { version?: string; title?: string; mediaType?: string }): Promise<void> {
    await this.write(doc, { status: 'queued', ...info, error: null, done: 0, total: 0 });
  }

  async startIndexing(doc: DocumentRef, info: { version: string; total: number; title?: string; mediaType?: string }): Promise<void> {
    const { total, ...rest } = info;
    await this.write(doc, { status: 'indexing', ...rest, error: null, done: 0, total });
  }

  async progress(doc: DocumentRef, done: number): Promise<void> {
    await this.redis.hset(this.docKey(doc), 'done', done, 'updatedAt', Date.now());
  }

  /**
   * The new version becomes the one searches serve. Call only after every chunk of it is in the
   * store; the superseded version's chunks are deleted after this. False (nothing written) when
   * the knowledge base was deleted meanwhile.
   */
  async activate(doc: DocumentRef, info: { version: string; fingerprint: string; chunks: number; embedded: number; reused: number; keywords?: readonly string[]; changeId?: string }): Promise<boolean> {
    storable({ ...doc, version: info.version });
    const now = Date.now();
    const fields = { status: 'indexed', version: info.version, activeVersion: info.version, fingerprint: info.fingerprint, chunks: info.chunks, embedded: info.embedded, reused: info.reused, done: info.chunks, total: info.chunks, indexedAt: now, updatedAt: now, keywords: JSON.stringify(info.keywords ?? []), changeId: info.changeId ?? '' };
    const keys = [this.docKey(doc), this.activeKey(doc.tenantId, doc.kbId), this.docsKey(doc.tenantId, doc.kbId), this.deletedKey(doc.tenantId, doc.kbId)];
    return (await this.redis.eval(ACTIVATE, keys.length, ...keys, doc.docId, info.version, ...Object.entries(fields).flat())) === 1;
  }

  /** Indexing failed for good; the active version (if any) stays served. */
  async fail(doc: DocumentRef, reason: string, version?: string): Promise<void> {
    await this.write(doc, { status: 'failed', error: reason, ...(version ? { version } : {}) });
  }

  /** Stops serving the document at once (before its chunks are removed from the store). */
  async startDeleting(doc: DocumentRef): Promise<void> {
    await this.redis
      .multi()
      .hdel(this.activeKey(doc.tenantId, doc.kbId), doc.docId)
      .hset(this.docKey(doc), 'status', 'deleting', 'updatedAt', Date.now())
      .hdel(this.docKey(doc), 'activeVersion')
      .sadd(this.docsKey(doc.tenantId, doc.kbId), doc.docId)
      .exec();
  }

  /** Forgets the document (its chunks are gone from the store). */
  async removeDocument(doc: DocumentRef): Promise<void> {
    await this.redis.multi().del(this.docKey(doc)).srem(this.docsKey(doc.tenantId, doc.kbId), doc.docId).hdel(this.activeKey(doc.tenantId, doc.kbId), doc.docId).exec();
  }

  async activeVersions(tenantId: string, kbIds: readonly string[]): Promise<Map<string, Map<string, string>>> {
    const unique = [...new Set(kbIds)];
    if (unique.length === 0) return new Map();
    const pipeline = this.redis.pipeline();
    for (const kbId of unique) pipeline.hgetall(this.activeKey(tenantId, kbId));
    const results = (await pipeline.exec()) ?? [];
    return new Map(
      unique.map((kbId, i) => {
        const [error, hash] = results[i] ?? [new Error('no reply')];
        if (error) throw error;
        return [kbId, new Map(Object.entries((hash ?? {}) as Record<string, string>))];
      }),
    );
  }

  private async write(doc: DocumentRef, fields: Record<string, string | number | null | undefined>): Promise<void> {
    storable({ tenantId: doc.tenantId, kbId: doc.kbId, docId: doc.docId, version: typeof fields['version'] === 'string' ? fields['version'] : undefined });
    const set: Record<string, string | number> = { updatedAt: Date.now() };
    const unset: string[] = [];
    for (const [name, value] of Object.entries(fields)) {
      if (value === null) unset.push(name);
      else if (value !== undefined) set[name] = value;
    }
    const multi = this.redis.multi().hset(this.docKey(doc), set).sadd(this.docsKey(doc.tenantId, doc.kbId), doc.docId);
    if (unset.length > 0) multi.hdel(this.docKey(doc), ...unset);
    await multi.exec();
  }
}

function toRecord(doc: DocumentRef, hash: Record<string, string>): DocumentRecord {
  const num = (name: string) => (hash[name] === undefined ? undefined : Number(hash[name]));
  const opt = <K extends string>(name: K, value: string | number | undefined) => (value === undefined ? {} : { [name]: value });
  return {
    tenantId: doc.tenantId,
    kbId: doc.kbId,
    docId: doc.docId,
    status: (hash['status'] ?? 'queued') as DocumentStatus,
    progress: { done: num('done') ?? 0, total: num('total') ?? 0 },
    updatedAt: num('updatedAt') ?? 0,
    ...opt('version', hash['version']),
    ...opt('activeVersion', hash['activeVersion']),
    ...opt('title', hash['title']),
    ...opt('mediaType', hash['mediaType']),
    ...opt('chunks', num('chunks')),
    ...opt('embedded', num('embedded')),
    ...opt('reused', num('reused')),
    ...opt('error', hash['error']),
    ...opt('indexedAt', num('indexedAt')),
    ...opt('fingerprint', hash['fingerprint']),
    ...(hash['changeId'] ? { changeId: hash['changeId'] } : {}),
    ...(hash['keywords'] ? { keywords: JSON.parse(hash['keywords']) as string[] } : {}),
  } as DocumentRecord;
}
