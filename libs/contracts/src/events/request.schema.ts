import { z } from 'zod';
import { chatMessage, id } from './common.schema.ts';

/** A client request as access (or rtc-push) publishes it, before admission. */
export const requestSubmitted = z.object({
  taskId: id,
  apiKeyId: id,
  subAccount: id.optional(),
  sessionId: id.optional(),
  userId: id.optional(),
  model: z.string().min(1).max(128),
  messages: z.array(chatMessage).min(1).max(1_000),
  maxTokens: z.number().int().positive().max(1_000_000),
  temperature: z.number().min(0).max(2).optional(),
  stream: z.boolean(),
  /** 0 is the most urgent; the deadline queue serves lower numbers first. */
  priority: z.number().int().min(0).max(9).default(5),
  /** After this instant the request is rejected instead of waiting any longer. */
  deadline: z.iso.datetime({ offset: true }),
  estimatedPromptTokens: z.number().int().nonnegative(),
  metadata: z.record(z.string(), z.string().max(1_024)).optional(),
  /**
   * Knowledge bases to answer from (retrieval-augmented generation). Absent: every knowledge base
   * of the tenant; empty: no retrieval.
   */
  knowledgeBases: z.array(id).max(16).optional(),
  /**
   * Fields of OpenAI's Chat Completions request carried to the model as they are (`tools`,
   * `tool_choice`, `response_format`, `stop`, `seed`, `top_p`, penalties, `logit_bias`,
   * `logprobs`, ...; validated by the edge that accepted the request). Only providers that speak
   * OpenAI's API get a request that has them.
   */
  forward: z.record(z.string(), z.json()).optional(),
});

/** One limit of the key as it stands after admission (OpenAI's x-ratelimit-* headers). */
export const limitStanding = z.object({ limit: z.number().nonnegative(), remaining: z.number().nonnegative(), resetMs: z.number().int().nonnegative() });
export const limitsStanding = z.object({ requests: limitStanding.optional(), tokens: limitStanding.optional() });

/** An admitted request: capacity is reserved and an inference worker may take it. */
export const requestAdmitted = z.object({
  request: requestSubmitted,
  reservationId: id,
  reservedTokens: z.number().int().nonnegative(),
  queuedMs: z.number().int().nonnegative(),
  /** Set in session-affinity mode: the worker the request should go to while it is alive. */
  workerId: id.optional(),
  /** The key's requests/tokens per minute after this admission, for the answer's x-ratelimit-* headers. */
  limits: limitsStanding.optional(),
});

export const rejectionReason = z.enum([
  'rate_limited',
  'token_budget_exceeded',
  'concurrency_limit',
  'deadline_exceeded',
  'policy_denied',
  'no_capacity',
  /** A spend budget (day or month) would go over: refused until it resets, never parked. */
  'budget_exceeded',
]);

export const requestRejected = z.object({
  taskId: id,
  apiKeyId: id,
  /** The alias asked for (for the usage ledger); absent from producers older than it. */
  model: z.string().min(1).max(128).optional(),
  reason: rejectionReason,
  message: z.string().max(2_000),
  retryAfterMs: z.number().int().nonnegative().optional(),
  /** The limit that bound and what is left of it, for x-ratelimit-* headers. */
  limit: z.number().nonnegative().optional(),
  remaining: z.number().nonnegative().optional(),
});
