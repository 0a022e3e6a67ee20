import { z } from 'zod';

/** What a notification answers: the changes queued, in record order, and the records left out with why. */
export const notificationReceiptSchema = z
  .object({
    accepted: z.array(z.object({ type: z.enum(['kb.change.upsert', 'kb.change.delete']), kbId: z.string(), docId: z.string(), changeId: z.string() })),
    ignored: z.array(z.object({ bucket: z.string(), key: z.string(), reason: z.string() })),
  })
  .meta({ id: 'NotificationReceipt' });
export type NotificationReceipt = z.infer<typeof notificationReceiptSchema>;
