import { idSchema } from '@aip/contracts';
import { z } from 'zod';

/** Document ids and version labels: the platform's one id rule (any file name of up to 128 characters will do). */
export const docIdSchema = idSchema;
const versionSchema = idSchema;
const metadataSchema = z.record(z.string().max(128), z.string().max(1_024)).refine((m) => Object.keys(m).length <= 64, 'at most 64 metadata entries');

/** `POST .../documents` and `PUT .../documents/{doc}` with a JSON body (the content inline). */
export const jsonDocumentSchema = z
  .object({
    docId: docIdSchema.optional(),
    title: z.string().max(1_024).optional(),
    mediaType: z.string().min(1).max(128),
    content: z.string().min(1, 'content must not be empty'),
    version: versionSchema.optional(),
    metadata: metadataSchema.optional(),
  })
  .strict();
export type JsonDocument = z.infer<typeof jsonDocumentSchema>;

/** The text fields of a multipart upload (the file is the part named `file`). */
export const multipartFieldsSchema = z
  .object({
    docId: docIdSchema.optional(),
    title: z.string().max(1_024).optional(),
    mediaType: z.string().min(1).max(128).optional(),
    version: versionSchema.optional(),
    metadata: z
      .string()
      .transform((raw, ctx) => {
        try {
          return JSON.parse(raw) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'metadata must be a JSON object of strings' });
          return z.NEVER;
        }
      })
      .pipe(metadataSchema)
      .optional(),
  })
  .strict();
export type MultipartFields = z.infer<typeof multipartFieldsSchema>;
