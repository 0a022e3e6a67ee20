import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { idProblem } from '@aip/contracts';
import { formatOf, IngestError, KnowledgeRegistry, type KnowledgeBaseRecord } from '@aip/knowledge';
import { ApiError, LOGGER, parseRequest } from '@aip/runtime';
import type { Logger } from 'pino';
import { errors } from '../common/errors.ts';
import { KbEvents } from '../common/kb-events.ts';
import { publishFailure } from '../common/publish-failure.ts';
import { ContentStore } from '../content/content.store.ts';
import { UploadQuota } from '../content/upload.quota.ts';
import { mediaTypeOfName } from '../notifications/object-store.notification.ts';
import { multipartFieldsSchema, type JsonDocument } from './document-request.schema.ts';
import type { DocumentChange } from './document.view.ts';

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
 * Each upload holds a place in its tenant's `UploadQuota` from acceptance until its change is
 * applied (`ChangeService`) or could not be queued: a tenant at its quota gets 429.
 */
@Injectable()
export class DocumentsService {
  constructor(
    @Inject(KnowledgeRegistry) private readonly registry: KnowledgeRegistry,
    @Inject(ContentStore) private readonly contents: ContentStore,
    @Inject(KbEvents) private readonly events: KbEvents,
    @Inject(UploadQuota) private readonly quota: UploadQuota,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async knowledgeBase(tenantId: string, kbId: string): Promise<KnowledgeBaseRecord> {
    const kb = await this.registry.getKnowledgeBase(tenantId, kbId);
    if (!kb) throw errors.kbNotFound(kbId);
    return kb;
  }

  async submitJson(tenantId: string, kbId: string, body: JsonDocument, docIdFromPath?: string) {
    checkMediaType(body.mediaType, 'mediaType');
    const contentRef = await this.contents.saveBytes(tenantId, body.content);
    await this.reserve(tenantId, contentRef, Buffer.byteLength(body.content));
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

  /**
   * A multipart form: one part named `file` (streamed to disk) and optional text fields. `parts`
   * starts the multipart parser, which throws at once on a body without a boundary.
   */
  async submitMultipart(tenantId: string, kbId: string, parts: () => AsyncIterable<MultipartPart>, maxBytes: number, docIdFromPath?: string) {
    const fields: Record<string, string> = Object.create(null) as Record<string, string>;
    let upload: { ref: string; filename: string; mimetype: string } | undefined;
    // Refused before a byte is stored when the tenant is at its quota already.
    const room = await this.quota.check(tenantId);
    if (!room.ok) throw errors.uploadQuota(room.limit, this.quota.limits);
    try {
      try {
        await this.readParts(tenantId, parts, fields, maxBytes, (saved) => (upload = saved));
      } catch (error) {
        throw malformedMultipart(error);
      }
      if (!upload) throw errors.invalid('no file: send the document in a multipart part named "file"', 'file');
      const meta = parseRequest(multipartFieldsSchema, fields);
      const mediaType = meta.mediaType ?? (upload.mimetype && upload.mimetype !== 'application/octet-stream' && formatSupported(upload.mimetype) ? upload.mimetype : mediaTypeOfName(upload.filename));
      if (!mediaType) throw errors.invalid(`cannot tell the type of "${upload.filename}": send a mediaType field (text/plain, text/markdown, text/html, application/pdf)`, 'mediaType', 'unsupported_media_type');
      checkMediaType(mediaType, 'mediaType');
      const docId = docIdFromPath ?? meta.docId ?? docIdOfFileName(upload.filename);
      await this.reserve(tenantId, upload.ref, await this.contents.sizeOf(upload.ref));
      return await this.submit({
        tenantId,
        kbId,
        docId,
        mediaType,
        contentRef: upload.ref,
        title: truncate(upload.filename, 1_024),
        ...(meta.title ? { title: meta.title } : {}),
        ...(meta.version ? { version: meta.version } : {}),
        ...(meta.metadata ? { metadata: meta.metadata } : {}),
      });
    } catch (error) {
      if (upload) await this.discard(tenantId, upload.ref);
      throw error;
    }
  }

  /** A place in the tenant's quota for the stored upload `ref`; refused: the upload is removed and the client hears 429 (413 if it could never fit). */
  private async reserve(tenantId: string, ref: string, bytes: number): Promise<void> {
    const decision = await this.quota.reserve(tenantId, ref, bytes).catch(async (error: unknown) => {
      await this.contents.release(ref, tenantId).catch(() => undefined);
      throw error;
    });
    if (decision.ok) return;
    await this.contents.release(ref, tenantId).catch(() => undefined);
    this.logger.info({ tenantId, limit: decision.limit, usage: decision.usage }, 'upload refused: quota');
    throw decision.limit === 'bytes' && bytes > this.quota.limits.maxBytes ? errors.largerThanQuota(bytes, this.quota.limits.maxBytes) : errors.uploadQuota(decision.limit, this.quota.limits);
  }

  /** The upload will never be applied: its file and its place in the quota go. */
  private async discard(tenantId: string, ref: string): Promise<void> {
    await this.contents.release(ref, tenantId).catch(() => undefined);
    await this.quota.release(tenantId, ref).catch((error: unknown) => this.logger.warn({ tenantId, ref, err: (error as Error).message }, 'could not release a quota reservation (it expires on its own)'));
  }

  private async readParts(tenantId: string, parts: () => AsyncIterable<MultipartPart>, fields: Record<string, string>, maxBytes: number, saved: (upload: { ref: string; filename: string; mimetype: string }) => void) {
    let uploaded = false;
    for await (const part of parts()) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      if (part.fieldname !== 'file' || uploaded) {
        part.file!.resume();
        throw errors.invalid(uploaded ? 'send exactly one file' : `the file must be in the part named "file", not "${part.fieldname}"`, 'file');
      }
      const ref = await this.contents.saveStream(tenantId, part.file!).catch((error: unknown) => {
        if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE' || part.file!.truncated) throw errors.tooLarge(maxBytes);
        throw error;
      });
      // Handed over at once, so the caller releases it whatever fails next.
      saved({ ref, filename: part.filename ?? 'upload', mimetype: part.mimetype ?? 'application/octet-stream' });
      uploaded = true;
    }
  }

  async delete(tenantId: string, kbId: string, docId: string): Promise<DocumentChange> {
    const doc = { tenantId, kbId, docId };
    if (!(await this.registry.getDocument(doc))) throw errors.documentNotFound(docId);
    // Not served from now on; the queued delete removes the chunks in order with earlier changes.
    await this.registry.startDeleting(doc);
    const receipt = await this.publish(() => this.events.publish('kb.change.delete', { kbId, docId }, tenantId));
    return { object: 'knowledge.document', id: docId, knowledgeBase: kbId, status: 'deleting', changeId: receipt.envelope.id };
  }

  private async submit(submission: Submission): Promise<DocumentChange> {
    const { tenantId, kbId, docId, contentRef, mediaType, ...rest } = submission;
    const doc = { tenantId, kbId, docId };
    try {
      await this.registry.markQueued(doc, { mediaType, ...(rest.title ? { title: rest.title } : {}), ...(rest.version ? { version: rest.version } : {}) });
    } catch (error) {
      await this.discard(tenantId, contentRef);
      throw error;
    }
    try {
      const receipt = await this.publish(() => this.events.publish('kb.change.upsert', { kbId, docId, mediaType, contentRef, ...rest }, tenantId));
      this.logger.info({ tenantId, kbId, docId, changeId: receipt.envelope.id }, 'document queued');
      return { object: 'knowledge.document', id: docId, knowledgeBase: kbId, status: 'queued', changeId: receipt.envelope.id };
    } catch (error) {
      await this.discard(tenantId, contentRef);
      const failure = publishFailure(error);
      await this.registry.fail(doc, failure.getStatus() === 503 ? 'the change could not be queued (broker unavailable); send it again' : `the change was refused: ${failure.message}`.slice(0, 2_000)).catch(() => undefined);
      throw failure;
    }
  }

  private async publish<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw publishFailure(error);
    }
  }
}

type MultipartPart = { type: 'file' | 'field'; fieldname: string } & Partial<UploadedFile> & { value?: unknown };

/**
 * An error while reading the multipart body. The parser (busboy) reports a missing or wrong
 * boundary, a truncated body or a broken part header as plain errors without a `code`: the body
 * is malformed, a 400. Errors with a code pass on: Fastify's limits (`FST_*`, answered by the
 * error filter) and the file system's (`ENOSPC`...: ours, a 500).
 */
function malformedMultipart(error: unknown): unknown {
  if (error instanceof ApiError || !(error instanceof Error) || typeof (error as { code?: unknown }).code === 'string') return error;
  return errors.invalid(`The multipart body cannot be read: ${error.message}. Send multipart/form-data with the boundary given in the Content-Type header.`, null, 'malformed_multipart');
}

/**
 * The document id an upload gets from its file name when none is given: the name, without
 * control characters or line breaks, cut to 128 characters between code points.
 */
function docIdOfFileName(filename: string): string {
  const id = truncate(filename.toWellFormed().replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, '').trim(), 128).trim();
  const problem = idProblem(id);
  if (problem) throw errors.invalid(`the file name "${filename.slice(0, 200)}" cannot be a document id (${problem}): send a docId field`, 'docId');
  return id;
}

/** At most `max` UTF-16 code units, never ending in half of a surrogate pair. */
function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  const cut = value.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
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
