import { z } from 'zod';
import { errorInfo, id, usage } from './common.schema.ts';

export const inferenceStarted = z.object({
  taskId: id,
  apiKeyId: id,
  /** The conversation and its end user, when the request named them (the intent-scheduler's "the user spoke"). */
  sessionId: id.optional(),
  userId: id.optional(),
  workerId: id,
  model: z.string().min(1).max(128),
  /** 1 for the first run; higher when a worker died and another one re-runs the request. */
  attempt: z.number().int().positive(),
});

export const inferenceCompleted = z.object({
  taskId: id,
  apiKeyId: id,
  sessionId: id.optional(),
  userId: id.optional(),
  workerId: id,
  model: z.string().min(1).max(128),
  provider: z.string().min(1).max(128),
  reservationId: id.optional(),
  usage,
  timings: z.object({
    queueMs: z.number().int().nonnegative(),
    firstTokenMs: z.number().int().nonnegative().optional(),
    totalMs: z.number().int().nonnegative(),
  }),
  finishReason: z.enum(['stop', 'length', 'content_filter', 'tool_calls']),
});

export const inferenceFailed = z.object({
  taskId: id,
  apiKeyId: id,
  /** The alias asked for (for the usage ledger); absent from producers older than it. */
  model: z.string().min(1).max(128).optional(),
  workerId: id.optional(),
  reservationId: id.optional(),
  error: errorInfo,
  usage: usage.optional(),
});

export const inferenceCancelled = z.object({
  taskId: id,
  apiKeyId: id,
  model: z.string().min(1).max(128).optional(),
  reservationId: id.optional(),
  usage: usage.optional(),
});
