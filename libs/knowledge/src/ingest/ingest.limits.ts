/**
 * What one document may cost to index. A document beyond a limit fails `too_large` (poison: the
 * consumer acks it) before the expensive step the limit protects.
 */
export interface IngestLimits {
  /** Pages of a PDF: checked from the page tree, before any page's text is extracted. */
  readonly maxPdfPages: number;
  /** Chunks of one document version: checked after chunking, before anything is embedded or written. */
  readonly maxChunks: number;
}

/**
 * 1 000 pages is a long manual; 10 000 chunks is ~10 MB of text at the default chunk size of
 * 1 000 characters — a few minutes of embedding on the embedded model — and about as much as a
 * 50 MiB upload (the default `MAX_UPLOAD_BYTES`) of real prose yields.
 */
export const DEFAULT_INGEST_LIMITS: IngestLimits = { maxPdfPages: 1_000, maxChunks: 10_000 };
