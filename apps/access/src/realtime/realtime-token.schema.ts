import { REALTIME_GRANT_LIMITS } from '@aip/chat-policy';
import { z } from 'zod';
import { REALTIME_TOKEN_DEFAULT_TTL_S, REALTIME_TOKEN_MAX_TTL_S } from './realtime-token.service.ts';

/** `POST /v1/realtime/tokens`. */
export const realtimeTokenRequestSchema = z.object({
  user: z.string().regex(/^[\w.:@-]{1,128}$/, 'user: 1-128 of letters, digits, _ . : @ -'),
  ttlSeconds: z.number().int().min(10).max(REALTIME_TOKEN_MAX_TTL_S).default(REALTIME_TOKEN_DEFAULT_TTL_S),
  /** The models the browser may use; default: every model the key may use, as served now. */
  models: z.array(z.string().min(1).max(128)).min(1).max(REALTIME_GRANT_LIMITS.maxModels).optional(),
  /** Cap of each chat's max tokens. */
  maxTokens: z.number().int().min(1).max(REALTIME_GRANT_LIMITS.maxTokens).default(REALTIME_GRANT_LIMITS.defaultMaxTokens),
});

/** The token a browser connects to rtc-push with, and what it allows. */
export const realtimeTokenSchema = z
  .object({ token: z.string(), expiresAt: z.iso.datetime(), userId: z.string(), ttlSeconds: z.number().int(), models: z.array(z.string()), maxTokens: z.number().int() })
  .meta({ id: 'RealtimeToken' });
export type RealtimeToken = z.infer<typeof realtimeTokenSchema>;
