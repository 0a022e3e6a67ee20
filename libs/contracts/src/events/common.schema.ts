import { z } from 'zod';

export const id = z.string().min(1).max(128);

export const chatMessage = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().max(1_000_000),
  name: z.string().max(64).optional(),
});

export const usage = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
});

export const errorInfo = z.object({
  code: z.string().min(1).max(64),
  message: z.string().max(2_000),
});
