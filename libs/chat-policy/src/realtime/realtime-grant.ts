import { z } from 'zod';

export const REALTIME_GRANT_LIMITS = {
  /** `maxTokens` of a token when its issuer names none. */
  defaultMaxTokens: 1_024,
  /** The most a token may allow per chat. */
  maxTokens: 8_192,
  maxModels: 64,
} as const;

/**
 * What a short-lived realtime token (a browser user's) may do, narrower than its API key: stored
 * by access next to the token's claims (`realtimeTokenClaims` of @aip/contracts) and enforced by
 * rtc-push. A token never sends `system` messages: the browser user is not the key's backend.
 */
export const realtimeGrantSchema = z.object({
  /** The models the token may use: a subset of its key's models, fixed when it was issued. */
  models: z.array(z.string().min(1).max(128)).min(1).max(REALTIME_GRANT_LIMITS.maxModels),
  /** Upper bound of a chat's `maxTokens`; a chat asking for more gets this. */
  maxTokens: z.number().int().min(1).max(REALTIME_GRANT_LIMITS.maxTokens),
});
export type RealtimeGrant = z.infer<typeof realtimeGrantSchema>;

/**
 * The grant stored with a token's claims. Tokens issued before grants existed (they live an hour
 * at most) get the default token cap and their key's models.
 */
export function readRealtimeGrant(stored: unknown): { models?: string[]; maxTokens: number } {
  const parsed = realtimeGrantSchema.safeParse(stored);
  return parsed.success ? parsed.data : { maxTokens: REALTIME_GRANT_LIMITS.defaultMaxTokens };
}
