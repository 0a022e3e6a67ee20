import { ApiError, httpErrors } from '@aip/runtime';

/** What a 429 for the upload quota suggests: a few documents' indexing time. */
const QUOTA_RETRY_AFTER_SECONDS = 10;

/** knowledge-ingest's errors, in the platform's shape (`ApiError` from `@aip/runtime`). */
export const errors = {
  ...httpErrors,
  // Another tenant's knowledge base is indistinguishable from one that does not exist.
  kbNotFound: (kbId: string) => new ApiError(404, `No knowledge base '${kbId}'.`, 'not_found_error', 'knowledge_base_not_found', 'kb'),
  kbExists: (kbId: string) => new ApiError(409, `The knowledge base '${kbId}' already exists.`, 'conflict_error', 'knowledge_base_exists', 'id'),
  documentNotFound: (docId: string) => new ApiError(404, `No document '${docId}' in this knowledge base.`, 'not_found_error', 'document_not_found', 'doc'),
  tooLarge: (limit: number) => new ApiError(413, `The file is larger than the limit of ${limit} bytes.`, 'invalid_request_error', 'file_too_large', 'file'),
  /** The tenant's uploads waiting to be indexed are at its quota: a retry succeeds once some are applied. */
  uploadQuota: (limit: 'documents' | 'bytes', limits: { readonly maxDocuments: number; readonly maxBytes: number }) =>
    new ApiError(
      429,
      limit === 'documents'
        ? `This tenant already has ${limits.maxDocuments} uploads waiting to be indexed, its limit; send more once some are indexed.`
        : `This tenant's uploads waiting to be indexed already take up its limit of ${limits.maxBytes} bytes; send more once some are indexed.`,
      'rate_limit_error',
      'upload_quota_exceeded',
      null,
      { 'retry-after': String(QUOTA_RETRY_AFTER_SECONDS) },
    ),
  /** One file larger than the tenant's whole byte quota: no retry can succeed. */
  largerThanQuota: (bytes: number, max: number) => new ApiError(413, `The file (${bytes} bytes) is larger than this tenant's whole upload quota of ${max} bytes.`, 'invalid_request_error', 'upload_quota_too_small', 'file'),
};
