/**
 * Why a document could not be indexed. Every reason is permanent: retrying the same bytes fails
 * the same way (`too_large` and `parse_timeout` with the same limits).
 */
export type IngestFailureCode =
  | 'unsupported_media_type'
  | 'bad_encoding'
  | 'corrupt_pdf'
  | 'empty_document'
  /** Beyond a resource limit: HTML nesting, PDF pages, chunks per document, or the parser's memory. */
  | 'too_large'
  /** Parsing took longer than the time limit (the parse worker was killed). */
  | 'parse_timeout'
  | 'content_unavailable'
  /** The change names content of another tenant (an upload, or an object outside its mapped buckets). */
  | 'content_forbidden'
  | 'knowledge_base_deleted';

/**
 * A document that can never be indexed as it is (poison input). The consumer marks the document
 * failed with this reason and acks: retrying would block the document's FIFO group for nothing.
 */
export class IngestError extends Error {
  override readonly name = 'IngestError';

  constructor(
    readonly code: IngestFailureCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** `code: message`, short enough for the failed event's `reason` (≤ 2,000 characters). */
  get reason(): string {
    return `${this.code}: ${this.message}`.slice(0, 2_000);
  }
}
