import { Body, Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { KnowledgeRegistry } from '@aip/knowledge';
import { ApiKeyGuard, ENV, parseRequest, type AuthenticatedRequest } from '@aip/runtime';
import { errors } from '../common/errors.ts';
import { KbEvents } from '../common/kb-events.ts';
import { publishFailure } from '../common/publish-failure.ts';
import { UploadQuota } from '../content/upload.quota.ts';
import type { KnowledgeIngestEnv } from '../knowledge-ingest.config.ts';
import type { NotificationReceipt } from './notification-receipt.schema.ts';
import { mapObjectStoreNotification, objectStoreNotificationSchema } from './object-store.notification.ts';

/**
 * S3-style event notifications (AWS S3, MinIO webhook, Ceph RGW) → `kb.change.*` on the same
 * FIFO path as uploads and CDC, content by reference. The tenant is the API key's; only buckets
 * mapped to that tenant (OBJECT_STORE_MAPPINGS) are accepted. Each created object takes a place in
 * the tenant's upload quota (documents; its bytes are not ours) until its change is applied.
 */
@Controller('v1/notifications/object-store')
@UseGuards(ApiKeyGuard)
export class NotificationsController {
  constructor(
    @Inject(KbEvents) private readonly events: KbEvents,
    @Inject(KnowledgeRegistry) private readonly registry: KnowledgeRegistry,
    @Inject(ENV) private readonly env: KnowledgeIngestEnv,
    @Inject(UploadQuota) private readonly quota: UploadQuota,
  ) {}

  @Post()
  @HttpCode(202)
  async notify(@Body() body: unknown, @Req() request: AuthenticatedRequest): Promise<NotificationReceipt> {
    const tenantId = request.apiKey.tenantId;
    const notification = parseRequest(objectStoreNotificationSchema, body);
    const { changes, ignored } = mapObjectStoreNotification(notification, tenantId, this.env.OBJECT_STORE_MAPPINGS);
    const accepted: NotificationReceipt['accepted'] = [];
    // In record order: a create and a remove of one key in one notification stay in that order.
    for (const change of changes) {
      const doc = { tenantId, kbId: change.data.kbId, docId: change.data.docId };
      const ref = change.type === 'kb.change.upsert' ? change.data.contentRef : undefined;
      if (ref) {
        // 429 like an upload; records before this one are queued already, and a retry of the
        // whole notification applies them again as the same versions.
        const decision = await this.quota.reserve(tenantId, ref, 0);
        if (!decision.ok) throw errors.uploadQuota(decision.limit, this.quota.limits);
      }
      // Marked before publishing: once published, the consumer may already be indexing it.
      if (change.type === 'kb.change.upsert') await this.registry.markQueued(doc, { mediaType: change.data.mediaType, ...(change.data.title ? { title: change.data.title } : {}) });
      try {
        const receipt = change.type === 'kb.change.upsert' ? await this.events.publish(change.type, change.data, tenantId) : await this.events.publish(change.type, change.data, tenantId);
        accepted.push({ type: change.type, kbId: doc.kbId, docId: doc.docId, changeId: receipt.envelope.id });
      } catch (error) {
        // 503: the sender retries the whole notification; changes are idempotent per document
        // version. A change the broker refuses is a 4xx: sending it again would not help.
        const failure = publishFailure(error);
        // Not left "queued" for ever: nothing will come to index it.
        if (change.type === 'kb.change.upsert') await this.registry.fail(doc, `the change could not be queued: ${failure.message}`.slice(0, 2_000)).catch(() => undefined);
        if (ref) await this.quota.release(tenantId, ref).catch(() => undefined);
        throw failure;
      }
    }
    return { accepted, ignored };
  }
}
