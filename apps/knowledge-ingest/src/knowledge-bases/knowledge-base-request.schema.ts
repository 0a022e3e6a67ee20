import { idSchema } from '@aip/contracts';
import { z } from 'zod';

/** The platform's id rule, and a stricter name for bases created through the API (change-data-capture may name others). */
export const kbIdSchema = idSchema.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit');

export const createKnowledgeBaseSchema = z
  .object({
    id: kbIdSchema,
    name: z.string().max(256).optional(),
    description: z.string().max(2_000).optional(),
    /** Largest chunk in characters. */
    chunkSize: z.number().int().min(64).max(8_000).optional(),
    /** Characters shared by neighbouring chunks. */
    chunkOverlap: z.number().int().min(0).max(4_000).optional(),
  })
  .strict();
export type CreateKnowledgeBase = z.infer<typeof createKnowledgeBaseSchema>;
