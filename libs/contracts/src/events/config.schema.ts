import { z } from 'zod';
import { id } from './common.schema.ts';

/** A versioned run-time document changed; every instance reloads it from its store. */
export const configChanged = z.object({
  documentId: id,
  version: z.number().int().positive(),
  /** Tenant or key the document applies to; absent for platform-wide documents. */
  scope: z.string().max(128).optional(),
});
