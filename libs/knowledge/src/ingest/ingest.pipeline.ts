import { createHash } from 'node:crypto';
import { isValidId } from '@aip/contracts';
import type { ChunkRecord, KnowledgeStore } from '../store/store.port.ts';
import { chunkHash, chunkId } from './chunk.hash.ts';
import { prepareDocument, type DocumentPreparer } from './document.preparer.ts';
import { EmbeddingBatcher, type DocumentEmbedder } from './embedding.batcher.ts';
import { IngestError } from './ingest.errors.ts';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './ingest.limits.ts';
import type { DocumentRecord, DocumentRef, KnowledgeRegistry } from './knowledge.registry.ts';
import type { ChunkSettings } from './text.chunker.ts';

/** The registry calls the pipeline makes (a `KnowledgeRegistry`, or a double in tests). */
export type DocumentStateSink = Pick<KnowledgeRegistry, 'getDocument' | 'startIndexing' | 'progress' | 'activate' | 'fail' | 'startDeleting' | 'removeDocument'>;

export interface IngestPipelineOptions {
  store: KnowledgeStore;
  embeddings: DocumentEmbedder;
  /** Id of the embedding model: vectors are reused only for the same model. */
  modelId: string;
  registry: DocumentStateSink;
  /** Texts per embedding call (texts of documents ingested at once share calls). Default 32. */
  embedBatchSize?: number;
  /**
   * Embedding calls in flight at once, over all documents being ingested (default 1). Set it to the
   * embedder's parallelism (`EmbeddingModel.parallelism`: its sessions, or concurrent requests).
   */
  embedConcurrency?: number;
  /** Rows per store upsert. */
  upsertBatchSize?: number;
  /** Pages and chunks a document may have (default `DEFAULT_INGEST_LIMITS`). */
  limits?: Partial<IngestLimits>;
  /**
   * Where parsing and chunking run (default: `prepareDocument` in this thread). A service passes
   * a `ParseWorkerPool`'s `prepare`, so a hostile document cannot stall or exhaust its event loop.
   */
  prepare?: DocumentPreparer;
}

export interface IngestRequest extends DocumentRef {
  readonly content: Uint8Array | string;
  readonly mediaType: string;
  /** The source's version label; default: a fingerprint of the content and the chunk settings. */
  readonly version?: string;
  readonly title?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly settings: ChunkSettings;
  /** Id of the change being applied, kept with the active version (recognises a redelivery). */
  readonly changeId?: string;
}

export interface IngestResult {
  /** The version now served. */
  readonly version: string;
  readonly chunks: number;
  /** Chunks whose vector was computed now. */
  readonly embedded: number;
  /** Chunks whose vector was reused (same text, same model, already in this knowledge base). */
  readonly reused: number;
  /** The same content was already served under this version: nothing was parsed, embedded or written. */
  readonly unchanged: boolean;
  readonly durationMs: number;
  readonly title?: string;
  /** The document's most telling words (title first), for `kb.document.indexed`. */
  readonly keywords: string[];
}

/**
 * parse → normalise → chunk (with `prepare`, within the limits) → hash → reuse stored vectors by hash, embed only new texts (batched)
 * → upsert the new version → make it the active version → delete the superseded version's chunks.
 *
 * `ingest` may run for several documents at once (the caller keeps one document's versions in
 * order): their new texts share embedding calls through one `EmbeddingBatcher`, so documents of a
 * few chunks still make full batches, and `embedConcurrency` calls run at once; a call that fails
 * is retried per document, so each document gets its own outcome.
 *
 * What must stay true: the active version switches only after every chunk of the new version is
 * stored, and the old chunks are deleted only after the switch — so a search (which serves active
 * versions only) never sees a document half old, half new, and a crash at any step leaves the old
 * version served and the retry able to finish. Poison input fails with `IngestError` after the
 * document is marked failed; any other error is transient and is thrown for the caller to retry.
 */
export class IngestPipeline {
  private readonly options: IngestPipelineOptions;
  private readonly batcher: EmbeddingBatcher;
  private readonly upsertBatchSize: number;
  private readonly limits: IngestLimits;
  private readonly prepare: DocumentPreparer;

  constructor(options: IngestPipelineOptions) {
    this.options = options;
    this.batcher = new EmbeddingBatcher({ embeddings: options.embeddings, batchSize: options.embedBatchSize ?? 32, concurrency: options.embedConcurrency ?? 1 });
    this.upsertBatchSize = options.upsertBatchSize ?? 256;
    this.limits = { ...DEFAULT_INGEST_LIMITS, ...options.limits };
    this.prepare = options.prepare ?? prepareDocument;
  }

  get modelId(): string {
    return this.options.modelId;
  }

  async ingest(request: IngestRequest): Promise<IngestResult> {
    const started = performance.now();
    const { store, registry, modelId } = this.options;
    const doc: DocumentRef = { tenantId: request.tenantId, kbId: request.kbId, docId: request.docId };
    const fingerprint = fingerprintOf(request, modelId);
    const current = await registry.getDocument(doc);
    const version = versionFor(request.version, fingerprint, current);

    // The same content under the same version is already served: nothing to parse, embed or
    // write, as long as the store still holds exactly that version's rows.
    if (current?.activeVersion === version && current.fingerprint === fingerprint && current.chunks !== undefined) {
      const stored = await store.count({ tenantId: doc.tenantId, kbIds: [doc.kbId], docId: doc.docId });
      if (stored === current.chunks) {
        const keywords = current.keywords ?? [];
        if (!(await registry.activate(doc, { version, fingerprint, chunks: stored, embedded: 0, reused: stored, keywords, ...changeOf(request) }))) await this.knowledgeBaseDeleted(doc);
        return { version, chunks: stored, embedded: 0, reused: stored, unchanged: true, keywords, durationMs: Math.round(performance.now() - started), ...(current.title ? { title: current.title } : {}) };
      }
    }

    let texts: string[];
    let title: string | undefined;
    let keywords: string[];
    try {
      const prepared = await this.prepare({ content: request.content, mediaType: request.mediaType, settings: request.settings, limits: this.limits, ...(request.title !== undefined ? { title: request.title } : {}) });
      ({ title, keywords, chunks: texts } = prepared);
      // Whoever prepared it, nothing beyond the limit is embedded or written.
      if (texts.length === 0) throw new IngestError('empty_document', 'the document has no text to index');
      if (texts.length > this.limits.maxChunks) throw new IngestError('too_large', `the document makes ${texts.length} chunks; the limit is ${this.limits.maxChunks}`);
    } catch (error) {
      if (error instanceof IngestError) await registry.fail(doc, error.reason, version);
      throw error;
    }
    await registry.startIndexing(doc, { version, total: texts.length, mediaType: request.mediaType, ...(title ? { title } : {}) });

    const hashes = texts.map(chunkHash);
    const vectors = await store.vectorsByHash({ tenantId: doc.tenantId, kbId: doc.kbId, model: modelId }, [...new Set(hashes)]);
    const reused = hashes.filter((hash) => vectors.has(hash)).length;
    // Distinct new texts, and how many chunks each stands for (progress counts chunks).
    const missing = new Map<string, { text: string; chunks: number }>();
    hashes.forEach((hash, i) => {
      if (vectors.has(hash)) return;
      const entry = missing.get(hash);
      if (entry) entry.chunks += 1;
      else missing.set(hash, { text: texts[i]!, chunks: 1 });
    });
    let done = reused;
    if (reused > 0) await registry.progress(doc, done);
    if (missing.size > 0) {
      const entries = [...missing.values()];
      // Progress is written in order, one write at a time, as parts of the document get their
      // vectors (shared calls finish while other parts still wait). A failed write fails the ingest.
      let written = Promise.resolve();
      let progressFailure: { error: unknown } | undefined;
      const report = (indices: readonly number[]) => {
        for (const i of indices) done += entries[i]!.chunks;
        const now = done;
        written = written.then(() => registry.progress(doc, now)).catch((error: unknown) => void (progressFailure ??= { error }));
      };
      let embedded: number[][];
      try {
        embedded = await this.batcher.embed(entries.map((entry) => entry.text), report);
      } finally {
        await written;
      }
      if (progressFailure) throw progressFailure.error;
      [...missing.keys()].forEach((hash, i) => vectors.set(hash, embedded[i]!));
    }

    const metadata = request.metadata ? Object.fromEntries(Object.entries(request.metadata).map(([key, value]) => [key.toWellFormed(), value.toWellFormed()])) : undefined;
    const rows: ChunkRecord[] = texts.map((text, position) => ({
      id: chunkId({ ...doc, version, position }),
      ...doc,
      version,
      position,
      text,
      hash: hashes[position]!,
      model: modelId,
      vector: vectors.get(hashes[position]!)!,
      ...(title ? { title } : {}),
      ...(metadata ? { metadata } : {}),
    }));
    // A label that is not served may hold rows of an attempt that failed midway (possibly longer
    // than this one): they would be served as part of it. Everything but the active version goes.
    // An active label that fails the id rule (stored before the rule existed) is never served, so it goes too.
    const active = current?.activeVersion !== undefined && isValidId(current.activeVersion) ? current.activeVersion : undefined;
    if (current && current.activeVersion !== version) await store.deleteDocument(active ? { ...doc, keepVersion: active } : doc);
    for (let i = 0; i < rows.length; i += this.upsertBatchSize) await store.upsert(rows.slice(i, i + this.upsertBatchSize));

    const embeddedCount = texts.length - reused;
    if (!(await registry.activate(doc, { version, fingerprint, chunks: texts.length, embedded: embeddedCount, reused, keywords, ...changeOf(request) }))) await this.knowledgeBaseDeleted(doc);
    // A document the registry has never seen has no other version to remove.
    if (current) await store.deleteDocument({ ...doc, keepVersion: version });
    return { version, chunks: texts.length, embedded: embeddedCount, reused, unchanged: false, keywords, durationMs: Math.round(performance.now() - started), ...(title ? { title } : {}) };
  }

  /** The knowledge base was deleted while the document was being indexed: its rows go too. */
  private async knowledgeBaseDeleted(doc: DocumentRef): Promise<never> {
    await this.options.store.deleteDocument(doc);
    throw new IngestError('knowledge_base_deleted', 'the knowledge base was deleted');
  }

  /**
   * Deletes a document: it stops being served at once (registry), then its chunks leave the
   * store, then the registry forgets it. Safe to repeat after a crash at any step.
   */
  async remove(doc: DocumentRef): Promise<number> {
    await this.options.registry.startDeleting(doc);
    const removed = await this.options.store.deleteDocument(doc);
    await this.options.registry.removeDocument(doc);
    return removed;
  }
}

const changeOf = (request: IngestRequest) => (request.changeId ? { changeId: request.changeId } : {});

/** Content + what shapes the chunks and vectors: any change makes a new version. */
export function fingerprintOf(request: Pick<IngestRequest, 'content' | 'mediaType' | 'settings'>, modelId: string): string {
  return createHash('sha256')
    .update(JSON.stringify([request.mediaType, request.settings.chunkSize, request.settings.chunkOverlap, modelId]))
    .update(request.content)
    .digest('hex');
}

/**
 * The version label rows are stored under. A source that re-sends the active version label with
 * different content gets a suffixed label: overwriting rows in place would serve a mix.
 */
function versionFor(requested: string | undefined, fingerprint: string, current: DocumentRecord | undefined): string {
  if (!requested) return fingerprint.slice(0, 16);
  if (current?.activeVersion === requested && current.fingerprint && current.fingerprint !== fingerprint) {
    const label = `${requested}+${fingerprint.slice(0, 8)}`.slice(-128);
    // The cut must not leave half of a surrogate pair: the label must still pass the id rule.
    return /^[\uDC00-\uDFFF]/.test(label) ? label.slice(1) : label;
  }
  return requested;
}
