import { z } from 'zod';
import { id } from './common.schema.ts';

/** A spend budget's spend crossed its soft limit, the first time in its period (once per budget and period). */
export const budgetThreshold = z.object({
  budgetId: z.string().min(1).max(64),
  /** What it covers: the tenant (the envelope's), and a key and/or model alias when it is narrower. */
  keyId: id.optional(),
  model: z.string().min(1).max(128).optional(),
  period: z.enum(['day', 'month']),
  /** `2026-12` or `2026-12-08` (UTC). */
  periodId: z.string().min(7).max(10),
  amountUsd: z.number().positive(),
  softPercent: z.number().min(1).max(100),
  /** The request whose reservation crossed it. */
  taskId: id,
});
