import { ApiError, httpErrors } from '@aip/runtime';

/** knowledge-ingest's errors, in the platform's shape (`ApiError` from `@aip/runtime`). */
export const errors = {
  ...httpErrors,
  // Another tenant's knowledge base is indistinguishable from one that does not exist.
  kbNotFound: (kbId: string) => new ApiError(404, `No knowledge base '${kbId}'.`, 'not_found_error', 'knowledge_base_not_found', 'kb'),
  kbExists: (kbId: string) => new ApiError(409, `The knowledge base '${kbId}' already exists.`, 'conflict_error', 'knowledge_base_exists', 'id'),
  documentNotFound: (docId: string) => new ApiError(404, `No document '${docId}' in this knowledge base.`, 'not_found_error', 'document_not_found', 'doc'),
  tooLarge: (limit: number) => new ApiError(413, `The file is larger than the limit of ${limit} bytes.`, 'invalid_request_error', 'file_too_large', 'file'),
};
