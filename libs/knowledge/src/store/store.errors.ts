export type KnowledgeStoreErrorCode = 'invalid_config' | 'invalid_query' | 'invalid_chunk' | 'not_initialised' | 'dimension_mismatch' | 'incompatible_schema' | 'backend';

/** A structured error: `code` says whose fault it is (bad input, setup, or the backend). */
export class KnowledgeStoreError extends Error {
  override readonly name = 'KnowledgeStoreError';
  readonly code: KnowledgeStoreErrorCode;
  constructor(code: KnowledgeStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
