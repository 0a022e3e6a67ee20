/** Why a document could not be indexed. Every reason is permanent: retrying the same bytes fails the same way. */
export type IngestFailureCode =
  | 'unsupported_media_type'
  | 'bad_encoding'
  | 'corrupt_pdf'
  | 'empty_document'
  | 'too_large'
  | 'content_unavailable'
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
