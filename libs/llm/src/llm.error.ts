export type LlmErrorKind =
  | 'timeout'
  | 'rate_limited'
  | 'server_error'
  | 'context_length'
  | 'content_policy'
  | 'auth'
  | 'bad_request'
  | 'network';

export const LLM_ERROR_KINDS: readonly LlmErrorKind[] = [
  'timeout',
  'rate_limited',
  'server_error',
  'context_length',
  'content_policy',
  'auth',
  'bad_request',
  'network',
];

/** One provider tried by a fallback chain, in order. */
export interface ProviderAttempt {
  provider: string;
  /** served: it streamed the answer; failed: it errored or missed its first-token timeout; skipped: cooling down. */
  outcome: 'served' | 'failed' | 'skipped';
  kind?: LlmErrorKind;
  /** Cooldown recorded for it after this failure (ms), or remaining cooldown when skipped. */
  cooldownMs?: number;
}

export interface LlmErrorOptions {
  retryAfterMs?: number;
  status?: number;
  provider?: string;
  attempts?: ProviderAttempt[];
  cause?: unknown;
}

const RETRYABLE: ReadonlySet<LlmErrorKind> = new Set(['timeout', 'rate_limited', 'server_error', 'network']);

/**
 * A chat-model failure, classified so callers can decide without parsing messages:
 * `retryable` says whether the same request may succeed later (or elsewhere), `retryAfterMs` is the
 * upstream's own hint (Retry-After) for rate limits.
 */
export class LlmError extends Error {
  override readonly name = 'LlmError';
  readonly kind: LlmErrorKind;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;
  /** The provider that failed (set by adapters and the fallback chain). */
  provider: string | undefined;
  /** What a fallback chain tried before giving up. */
  attempts: ProviderAttempt[] | undefined;

  constructor(kind: LlmErrorKind, message: string, options: LlmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.retryable = RETRYABLE.has(kind);
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
    this.provider = options.provider;
    this.attempts = options.attempts;
  }
}
