export type EmbeddingModelErrorCode = 'fetch_failed' | 'checksum_mismatch' | 'missing_file' | 'unknown_model' | 'invalid_config' | 'probe_failed';

/**
 * Anything that stops an embedding model from being made available: the fetch failed, a cached file
 * is corrupt, the configuration names something that does not exist. The message says what to do.
 */
export class EmbeddingModelError extends Error {
  override readonly name = 'EmbeddingModelError';
  readonly code: EmbeddingModelErrorCode;

  constructor(code: EmbeddingModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
