import { z } from 'zod';
import { id } from './common.schema.ts';

/** A proactive prompt decided by the intent scheduler for one user. */
export const pushProactive = z.object({
  userId: id,
  sessionId: id.optional(),
  intent: z.string().min(1).max(128),
  text: z.string().min(1).max(4_000),
  slots: z.record(z.string(), z.string().max(256)).default({}),
  /** One push per (user, intent, slot, day): consumers drop a second message with the same key. */
  dedupeKey: z.string().min(1).max(512),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});

/** A notice for one user (new content, system message). */
export const pushNotice = z.object({
  userId: id,
  title: z.string().min(1).max(256),
  text: z.string().min(1).max(4_000),
  link: z.string().max(2_048).optional(),
  dedupeKey: z.string().min(1).max(512).optional(),
});
