import { Inject, Injectable } from '@nestjs/common';
import { groupOf, type Envelope } from '@aip/contracts';
import { IngestError, IngestPipeline, KnowledgeRegistry, type KnowledgeBaseRecord } from '@aip/knowledge';
import { ENV } from '@aip/runtime';
import type { Logger } from 'pino';
import { KbEvents } from '../common/kb-events.ts';
import { knowledgeMetrics } from '../common/knowledge.metrics.ts';
import { LOGGER } from '../common/tokens.ts';
import { ContentStore } from '../content/content.store.ts';
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
  ) {}

  async upsert(event: Envelope<'kb.change.upsert'>, attempt = 1): Promise<void> {
    const { tenantId, data } = event;
    const doc = { tenantId, kbId: data.kbId, docId: data.docId };
    const log = this.logger.child({ eventId: event.id, tenantId, kbId: data.kbId, docId: data.docId });
    try {
      const kb = await this.knowledgeBase(tenantId, data.kbId);
      const content = data.content ?? (await this.contents.read(data.contentRef!));
      const result = await this.pipeline.ingest({
        ...doc,
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
      if (error instanceof IngestError) {
        await this.failed(doc, error.reason, data.version);
        log.warn({ reason: error.reason }, 'document failed');
      } else {
        if (attempt >= MAX_ATTEMPTS) await this.failed(doc, `gave up after ${attempt} attempts: ${(error as Error).message ?? String(error)}`.slice(0, 2_000), data.version).catch(() => undefined);
        log.warn({ attempt, err: (error as Error).message ?? String(error) }, 'indexing failed; the change will be retried');
        throw error;
      }
    }
    // The upload is not needed once the change is applied for good (indexed or poison).
    if (data.contentRef) await this.contents.release(data.contentRef).catch(() => undefined);
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

  /** Change-data-capture may name a knowledge base nobody created through the API: it gets the default settings. */
  private async knowledgeBase(tenantId: string, kbId: string): Promise<KnowledgeBaseRecord> {
    const existing = await this.registry.getKnowledgeBase(tenantId, kbId);
    if (existing) return existing;
    const { record } = await this.registry.createKnowledgeBase({ tenantId, kbId, chunkSize: this.env.DEFAULT_CHUNK_SIZE, chunkOverlap: Math.min(this.env.DEFAULT_CHUNK_OVERLAP, this.env.DEFAULT_CHUNK_SIZE - 1) });
    return record;
  }
}
