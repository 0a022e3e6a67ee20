import { z } from 'zod';
import { idSchema } from '../id.schema.ts';

// Ids and version labels name stored rows and filter every search: the one id rule (id.schema.ts).
const document = { kbId: idSchema, docId: idSchema };

/** A document was created or replaced. The content travels inline or by reference, not both. */
export const kbChangeUpsert = z
  .object({
    ...document,
    version: idSchema.optional(),
    title: z.string().max(1_024).optional(),
    mediaType: z.string().min(1).max(128),
    content: z.string().max(4 * 1024 * 1024).optional(),
    contentRef: z.string().min(1).max(2_048).optional(),
    metadata: z.record(z.string(), z.string().max(1_024)).optional(),
  })
  .refine((d) => (d.content === undefined) !== (d.contentRef === undefined), {
    message: 'exactly one of content and contentRef is required',
  });

export const kbChangeDelete = z.object(document);

export const kbDocumentIndexed = z.object({
  ...document,
  version: idSchema,
  chunks: z.number().int().nonnegative(),
  embedded: z.number().int().nonnegative(),
  reused: z.number().int().nonnegative(),
  durationMs: z.number().int().nonnegative(),
  keywords: z.array(z.string().max(128)).max(64).optional(),
});

export const kbDocumentDeleted = z.object(document);

export const kbDocumentFailed = z.object({
  ...document,
  version: z.string().max(128).optional(),
  reason: z.string().min(1).max(2_000),
});
