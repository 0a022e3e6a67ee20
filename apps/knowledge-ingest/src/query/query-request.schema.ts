import { z } from 'zod';

export const queryRequestSchema = z
  .object({
    query: z.string().trim().min(1, 'query must not be empty').max(8_000),
    limit: z.number().int().min(1).max(50).default(5),
    mode: z.enum(['dense', 'fulltext', 'hybrid']).default('hybrid'),
    minScore: z.number().optional(),
  })
  .strict();
export type QueryRequest = z.infer<typeof queryRequestSchema>;
