import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { formatOf, IngestError, KnowledgeRegistry, type KnowledgeBaseRecord } from '@aip/knowledge';
import { PublishError } from '@aip/messaging';
import { ApiError, parseRequest } from '@aip/runtime';
import type { Logger } from 'pino';
import { errors } from '../common/errors.ts';
import { KbEvents } from '../common/kb-events.ts';
import { LOGGER } from '../common/tokens.ts';
import { ContentStore } from '../content/content.store.ts';
import { mediaTypeOfName } from '../notifications/object-store.notification.ts';
import { multipartFieldsSchema, type JsonDocument } from './document-request.schema.ts';

export interface UploadedFile {
  readonly filename: string;
  readonly mimetype: string;
  readonly file: Readable & { truncated?: boolean };
}

interface Submission {
  tenantId: string;
  kbId: string;
  docId: string;
  mediaType: string;
  contentRef: string;
  title?: string;
  version?: string;
  metadata?: Record<string, string>;
}

/**
 * Uploads take the same ordered path as change-data-capture: the content is stored, and a
 * `kb.change.upsert` referencing it is published to the document's FIFO group, so an upload and
 * a later delete of the same document (from any source) apply in the order they were accepted.
 */
@Injectable()
export class DocumentsService {
  constructor(
    @Inject(KnowledgeRegistry) private readonly registry: KnowledgeRegistry,
    @Inject(ContentStore) private readonly contents: ContentStore,
    @Inject(KbEvents) private readonly events: KbEvents,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async knowledgeBase(tenantId: string, kbId: string): Promise<KnowledgeBaseRecord> {
    const kb = await this.registry.getKnowledgeBase(tenantId, kbId);
    if (!kb) throw errors.kbNotFound(kbId);
    return kb;
  }

  async submitJson(tenantId: string, kbId: string, body: JsonDocument, docIdFromPath?: string) {
    checkMediaType(body.mediaType, 'mediaType');
    const contentRef = await this.contents.saveBytes(body.content);
    return this.submit({
      tenantId,
      kbId,
      docId: docIdFromPath ?? body.docId ?? randomUUID(),
      mediaType: body.mediaType,
      contentRef,
      ...(body.title ? { title: body.title } : {}),
      ...(body.version ? { version: body.version } : {}),
      ...(body.metadata ? { metadata: body.metadata } : {}),
    });
  }

  /** A multipart form: one part named `file` (streamed to disk) and optional text fields. */
  async submitMultipart(tenantId: string, kbId: string, parts: AsyncIterable<{ type: 'file' | 'field'; fieldname: string } & Partial<UploadedFile> & { value?: unknown }>, maxBytes: number, docIdFromPath?: string) {
    const fields: Record<string, string> = {};
    let upload: { ref: string; filename: string; mimetype: string } | undefined;
    try {
      for await (const part of parts) {
        if (part.type === 'field') {
          fields[part.fieldname] = String(part.value);
          continue;
        }
        if (part.fieldname !== 'file' || upload) {
          part.file!.resume();
          throw errors.invalid(upload ? 'send exactly one file' : `the file must be in the part named "file", not "${part.fieldname}"`, 'file');
        }
        const ref = await this.contents.saveStream(part.file!).catch((error: unknown) => {
          if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE' || part.file!.truncated) throw errors.tooLarge(maxBytes);
          throw error;
        });
        upload = { ref, filename: part.filename ?? 'upload', mimetype: part.mimetype ?? 'application/octet-stream' };
      }
      if (!upload) throw errors.invalid('no file: send the document in a multipart part named "file"', 'file');
      const meta = parseRequest(multipartFieldsSchema, fields);
      const mediaType = meta.mediaType ?? (upload.mimetype && upload.mimetype !== 'application/octet-stream' && formatSupported(upload.mimetype) ? upload.mimetype : mediaTypeOfName(upload.filename));
      if (!mediaType) throw errors.invalid(`cannot tell the type of "${upload.filename}": send a mediaType field (text/plain, text/markdown, text/html, application/pdf)`, 'mediaType', 'unsupported_media_type');
      checkMediaType(mediaType, 'mediaType');
      return await this.submit({
        tenantId,
        kbId,
        docId: docIdFromPath ?? meta.docId ?? upload.filename.slice(0, 128),
        mediaType,
        contentRef: upload.ref,
        title: meta.title ?? upload.filename.slice(0, 1_024),
        ...(meta.version ? { version: meta.version } : {}),
        ...(meta.metadata ? { metadata: meta.metadata } : {}),
      });
    } catch (error) {
      if (upload) await this.contents.release(upload.ref).catch(() => undefined);
      throw error;
    }
  }

  async delete(tenantId: string, kbId: string, docId: string) {
    const doc = { tenantId, kbId, docId };
    if (!(await this.registry.getDocument(doc))) throw errors.documentNotFound(docId);
    // Not served from now on; the queued delete removes the chunks in order with earlier changes.
    await this.registry.startDeleting(doc);
    const receipt = await this.publish(() => this.events.publish('kb.change.delete', { kbId, docId }, tenantId));
    return { object: 'knowledge.document', id: docId, knowledgeBase: kbId, status: 'deleting', changeId: receipt.envelope.id };
  }

  private async submit(submission: Submission) {
    const { tenantId, kbId, docId, contentRef, mediaType, ...rest } = submission;
    const doc = { tenantId, kbId, docId };
    try {
      await this.registry.markQueued(doc, { mediaType, ...(rest.title ? { title: rest.title } : {}), ...(rest.version ? { version: rest.version } : {}) });
    } catch (error) {
      await this.contents.release(contentRef).catch(() => undefined);
      throw error;
    }
    try {
      const receipt = await this.publish(() => this.events.publish('kb.change.upsert', { kbId, docId, mediaType, contentRef, ...rest }, tenantId));
      this.logger.info({ tenantId, kbId, docId, changeId: receipt.envelope.id }, 'document queued');
      return { object: 'knowledge.document', id: docId, knowledgeBase: kbId, status: 'queued', changeId: receipt.envelope.id };
    } catch (error) {
      await this.contents.release(contentRef).catch(() => undefined);
      await this.registry.fail(doc, 'the change could not be queued (broker unavailable); send it again').catch(() => undefined);
      throw error;
    }
  }

  private async publish<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof PublishError && error.code === 'INVALID_EVENT') throw errors.invalid(error.message);
      if (error instanceof ApiError) throw error;
      throw errors.unavailable('The message broker');
    }
  }
}

function formatSupported(mediaType: string): boolean {
  try {
    formatOf(mediaType);
    return true;
  } catch {
    return false;
  }
}

function checkMediaType(mediaType: string, param: string) {
  try {
    formatOf(mediaType);
  } catch (error) {
    if (error instanceof IngestError) throw errors.invalid(error.message, param, error.code);
    throw error;
  }
}
