import { ApiError } from '@aip/runtime';
import type { RunningLimits } from '@aip/tasks';

/** `1.5s`, `20ms`: the duration form of OpenAI's x-ratelimit-reset-* headers. */
const duration = (ms: number) => (ms < 1_000 ? `${Math.ceil(ms)}ms` : `${Number((ms / 1_000).toFixed(3))}s`);

/**
 * OpenAI's x-ratelimit-* headers on a successful answer, from the key's limits as its admission
 * left them (clients pace themselves by them; the limits a key does not have are left out).
 */
export function rateLimitHeaders(limits: RunningLimits | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const unit of ['requests', 'tokens'] as const) {
    const standing = limits?.[unit];
    if (!standing) continue;
    headers[`x-ratelimit-limit-${unit}`] = String(standing.limit);
    headers[`x-ratelimit-remaining-${unit}`] = String(Math.floor(standing.remaining));
    headers[`x-ratelimit-reset-${unit}`] = duration(standing.resetMs);
  }
  return headers;
}

/** A refusal by the key's limits: 429 with Retry-After and OpenAI's x-ratelimit-* headers for the limit that bound. */
export function rateLimitError(refusal: { code: string; message: string; retryAfterMs?: number | undefined; limit?: number | undefined; remaining?: number | undefined }): ApiError {
  const seconds = Math.max(1, Math.ceil((refusal.retryAfterMs ?? 1_000) / 1_000));
  // A spend budget is money, not OpenAI's requests or tokens: Retry-After (its reset) alone.
  if (refusal.code === 'budget_exceeded') return new ApiError(429, refusal.message, 'rate_limit_error', refusal.code, null, { 'retry-after': String(seconds) });
  // OpenAI's header names: the tokens pair when the token budget bound, the requests pair otherwise.
  const unit = refusal.code === 'token_budget_exceeded' ? 'tokens' : 'requests';
  return new ApiError(429, refusal.message, 'rate_limit_error', refusal.code, null, {
    'retry-after': String(seconds),
    [`x-ratelimit-reset-${unit}`]: `${seconds}s`,
    ...(refusal.limit !== undefined ? { [`x-ratelimit-limit-${unit}`]: String(refusal.limit) } : {}),
    ...(refusal.remaining !== undefined ? { [`x-ratelimit-remaining-${unit}`]: String(Math.floor(refusal.remaining)) } : {}),
  });
}
