import type { DocumentRecord, KnowledgeBaseRecord } from '@aip/knowledge';
import { z } from 'zod';

const nullableInt = z.number().int().nullable();

/** What clients see of a document: status and progress, never another tenant's data. */
export const documentViewSchema = z
  .object({
    object: z.literal('knowledge.document'),
    id: z.string(),
    knowledgeBase: z.string(),
    status: z.enum(['queued', 'indexing', 'indexed', 'failed', 'deleting']),
    progress: z.object({ done: z.number().int(), total: z.number().int() }).meta({ description: 'Chunks of `version` embedded or reused so far.' }),
    version: z.string().nullable(),
    activeVersion: z.string().nullable().meta({ description: 'The version searches serve.' }),
    title: z.string().nullable(),
    mediaType: z.string().nullable(),
    chunks: nullableInt,
    embedded: nullableInt,
    reused: nullableInt,
    error: z.string().nullable(),
    updatedAt: z.iso.datetime(),
    indexedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Document' });

/** A knowledge base and its chunk settings. */
export const knowledgeBaseViewSchema = z
  .object({ object: z.literal('knowledge.base'), id: z.string(), name: z.string().nullable(), description: z.string().nullable(), chunkSize: z.number().int(), chunkOverlap: z.number().int(), createdAt: z.iso.datetime() })
  .meta({ id: 'KnowledgeBase' });

/** What adding, replacing or deleting a document answers: the change is queued (202). */
export const documentChangeSchema = z
  .object({ object: z.literal('knowledge.document'), id: z.string(), knowledgeBase: z.string(), status: z.enum(['queued', 'deleting']), changeId: z.string().meta({ description: 'Id of the kb.change.* event.' }) })
  .meta({ id: 'DocumentChange' });
export type DocumentChange = z.infer<typeof documentChangeSchema>;

export function documentView(record: DocumentRecord): z.infer<typeof documentViewSchema> {
  return {
    object: 'knowledge.document',
    id: record.docId,
    knowledgeBase: record.kbId,
    status: record.status,
    progress: record.progress,
    version: record.version ?? null,
    activeVersion: record.activeVersion ?? null,
    title: record.title ?? null,
    mediaType: record.mediaType ?? null,
    chunks: record.chunks ?? null,
    embedded: record.embedded ?? null,
    reused: record.reused ?? null,
    error: record.error ?? null,
    updatedAt: new Date(record.updatedAt).toISOString(),
    indexedAt: record.indexedAt ? new Date(record.indexedAt).toISOString() : null,
  };
}

export function knowledgeBaseView(record: KnowledgeBaseRecord): z.infer<typeof knowledgeBaseViewSchema> {
  return {
    object: 'knowledge.base',
    id: record.kbId,
    name: record.name ?? null,
    description: record.description ?? null,
    chunkSize: record.chunkSize,
    chunkOverlap: record.chunkOverlap,
    createdAt: new Date(record.createdAt).toISOString(),
  };
}
