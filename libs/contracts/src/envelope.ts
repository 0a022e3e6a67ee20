import { z } from 'zod';
import { idSchema } from './id.schema.ts';

/**
 * Every message body on every topic: `{ id, type, version, source, time, tenantId, traceparent?,
 * key?, data }`. `id` is unique per event and is the idempotency key of consumers.
 */
export const envelopeHeaderSchema = z.object({
  id: z.string().min(1).max(128),
  type: z.string().min(1).max(128),
  version: z.number().int().positive(),
  source: z.string().min(1).max(128),
  time: z.iso.datetime({ offset: true }),
  // Keys Redis state, store rows and filters: the one id rule (id.schema.ts).
  tenantId: idSchema,
  traceparent: z.string().regex(/^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/).optional(),
  key: z.string().max(256).optional(),
  data: z.unknown(),
});

export type EnvelopeHeader = z.infer<typeof envelopeHeaderSchema>;
