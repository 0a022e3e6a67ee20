import type { DocumentRecord, KnowledgeBaseRecord } from '@aip/knowledge';

/** What clients see of a document: status and progress, never another tenant's data. */
export function documentView(record: DocumentRecord) {
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

export function knowledgeBaseView(record: KnowledgeBaseRecord) {
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
