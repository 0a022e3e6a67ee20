import { Inject, Injectable } from '@nestjs/common';
import { groupOf, type Envelope } from '@aip/contracts';
import { IngestError, IngestPipeline, KnowledgeRegistry, type KnowledgeBaseRecord } from '@aip/knowledge';
import { ENV, LOGGER } from '@aip/runtime';
import type { Logger } from 'pino';
import { KbEvents } from '../common/kb-events.ts';
import { knowledgeMetrics } from '../common/knowledge.metrics.ts';
import { ContentStore } from '../content/content.store.ts';
import { UploadQuota } from '../content/upload.quota.ts';
import type { KnowledgeIngestEnv } from '../knowledge-ingest.config.ts';

const MAX_ATTEMPTS = groupOf('knowledgeIngest').maxAttempts;

/**
 * Applies `kb.change.*` in the order the FIFO topic hands them over (per document). Poison input
 * (unreadable, empty, unsupported) marks the document failed, publishes `kb.document.failed` and
 * returns, so the message is acked and the document's queue moves on. Anything else (store,
 * embedder or broker unavailable) is thrown for the transport to retry with backoff.
 */
@Injectable()
export class ChangeService {
  constructor(
    @Inject(IngestPipeline) private readonly pipeline: IngestPipeline,
    @Inject(KnowledgeRegistry) private readonly registry: KnowledgeRegistry,
    @Inject(ContentStore) private readonly contents: ContentStore,
    @Inject(KbEvents) private readonly events: KbEvents,
    @Inject(ENV) private readonly env: KnowledgeIngestEnv,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(UploadQuota) private readonly quota: UploadQuota,
  ) {}

  async upsert(event: Envelope<'kb.change.upsert'>, attempt = 1): Promise<void> {
    const { tenantId, data } = event;
    const doc = { tenantId, kbId: data.kbId, docId: data.docId };
    const log = this.logger.child({ eventId: event.id, tenantId, kbId: data.kbId, docId: data.docId });
    try {
      const kb = await this.knowledgeBase(tenantId, data.kbId, Date.parse(event.time));
      if (!kb) {
        await this.dropped(doc, data.version);
        log.warn('change dropped: the knowledge base was deleted');
        if (data.contentRef) await this.settled(tenantId, data.contentRef);
        return;
      }
      const content = data.content ?? (await this.contents.read(data.contentRef!, tenantId));
      const result = await this.pipeline.ingest({
        ...doc,
        changeId: event.id,
        content,
        mediaType: data.mediaType,
        settings: { chunkSize: kb.chunkSize, chunkOverlap: kb.chunkOverlap },
        ...(data.version ? { version: data.version } : {}),
        ...(data.title ? { title: data.title } : {}),
        ...(data.metadata ? { metadata: data.metadata } : {}),
      });
      await this.events.publish('kb.document.indexed', { kbId: data.kbId, docId: data.docId, version: result.version, chunks: result.chunks, embedded: result.embedded, reused: result.reused, durationMs: result.durationMs, ...(result.keywords.length > 0 ? { keywords: result.keywords } : {}) }, tenantId);
      knowledgeMetrics.documents.inc({ outcome: 'indexed' });
      knowledgeMetrics.chunks.inc({ kind: 'embedded' }, result.embedded);
      knowledgeMetrics.chunks.inc({ kind: 'reused' }, result.reused);
      knowledgeMetrics.ingestSeconds.observe(result.durationMs / 1_000);
      log.info({ version: result.version, chunks: result.chunks, embedded: result.embedded, reused: result.reused, durationMs: result.durationMs }, 'document indexed');
    } catch (error) {
      if (error instanceof IngestError && error.code === 'knowledge_base_deleted') {
        // Deleted while this change was being applied: nothing of it is served, nothing re-created.
        if (!(await this.registry.getKnowledgeBase(tenantId, data.kbId))) await this.registry.removeDocument(doc);
        await this.dropped(doc, data.version);
        log.warn('change dropped: the knowledge base was deleted');
      } else if (error instanceof IngestError && error.code === 'content_unavailable' && (await this.alreadyApplied(event))) {
        // A redelivery of a change applied before its upload was released (the ack was lost).
        log.info('change already applied');
      } else if (error instanceof IngestError) {
        await this.failed(doc, error.reason, data.version);
        log.warn({ reason: error.reason }, 'document failed');
      } else {
        if (attempt >= MAX_ATTEMPTS) {
          await this.failed(doc, `gave up after ${attempt} attempts: ${(error as Error).message ?? String(error)}`.slice(0, 2_000), data.version).catch(() => undefined);
          // Dead-lettered: the upload would otherwise stay on disk (and in its tenant's quota) for good.
          if (data.contentRef) await this.settled(tenantId, data.contentRef);
        }
        log.warn({ attempt, err: (error as Error).message ?? String(error) }, 'indexing failed; the change will be retried');
        throw error;
      }
    }
    // The upload is not needed once the change is applied for good (indexed or poison).
    if (data.contentRef) await this.settled(tenantId, data.contentRef);
  }

  /** The change of `ref` is applied for good: the upload's file and its place in the tenant's upload quota go. */
  private async settled(tenantId: string, ref: string): Promise<void> {
    await this.contents.release(ref, tenantId).catch(() => undefined);
    // Best effort: a reservation left behind expires on its own (UPLOAD_QUOTA_TTL_MS).
    await this.quota.release(tenantId, ref).catch((error: unknown) => this.logger.warn({ tenantId, ref, err: (error as Error).message }, 'could not release a quota reservation'));
  }

  async delete(event: Envelope<'kb.change.delete'>): Promise<void> {
    const { tenantId, data } = event;
    const removed = await this.pipeline.remove({ tenantId, kbId: data.kbId, docId: data.docId });
    await this.events.publish('kb.document.deleted', { kbId: data.kbId, docId: data.docId }, tenantId);
    knowledgeMetrics.documents.inc({ outcome: 'deleted' });
    this.logger.info({ eventId: event.id, tenantId, kbId: data.kbId, docId: data.docId, removed }, 'document deleted');
  }

  private async failed(doc: { tenantId: string; kbId: string; docId: string }, reason: string, version: string | undefined) {
    await this.registry.fail(doc, reason, version);
    await this.events.publish('kb.document.failed', { kbId: doc.kbId, docId: doc.docId, reason, ...(version ? { version } : {}) }, doc.tenantId);
    knowledgeMetrics.documents.inc({ outcome: 'failed' });
  }

  /** Not applied, and not recorded either: the registry must not bring back a deleted knowledge base. */
  private async dropped(doc: { tenantId: string; kbId: string; docId: string }, version: string | undefined) {
    await this.events.publish('kb.document.failed', { kbId: doc.kbId, docId: doc.docId, reason: 'knowledge base deleted', ...(version ? { version } : {}) }, doc.tenantId);
    knowledgeMetrics.documents.inc({ outcome: 'failed' });
  }

  /** The registry already serves what this change brought (same change, or its version label). */
  private async alreadyApplied(event: Envelope<'kb.change.upsert'>): Promise<boolean> {
    const current = await this.registry.getDocument({ tenantId: event.tenantId, kbId: event.data.kbId, docId: event.data.docId });
    const active = current?.activeVersion;
    if (!active) return false;
    const label = event.data.version;
    return current.changeId === event.id || (label !== undefined && (active === label || active.startsWith(`${label}+`)));
  }

  /**
   * Change-data-capture may name a knowledge base nobody created through the API: it gets the
   * default settings, unless it was deleted (undefined): a change accepted before the deletion, or
   * one for a base deleted within the tombstone's lifetime, is dropped. Re-creating the base
   * through the API clears the tombstone.
   */
  private async knowledgeBase(tenantId: string, kbId: string, eventTime: number): Promise<KnowledgeBaseRecord | undefined> {
    const deletedAt = await this.registry.knowledgeBaseDeletedAt(tenantId, kbId);
    if (deletedAt !== undefined && !(eventTime > deletedAt)) return undefined;
    return this.registry.ensureKnowledgeBase({ tenantId, kbId, chunkSize: this.env.DEFAULT_CHUNK_SIZE, chunkOverlap: Math.min(this.env.DEFAULT_CHUNK_OVERLAP, this.env.DEFAULT_CHUNK_SIZE - 1) });
  }
}
