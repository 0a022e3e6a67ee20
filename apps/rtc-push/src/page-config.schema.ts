import { z } from 'zod';

/** `GET /config.json`: where the web page finds access and knowledge-ingest, and the model it chats with. */
export const pageConfigSchema = z
  .object({ accessUrl: z.string().optional(), knowledgeUrl: z.string().optional(), model: z.string() })
  .meta({ id: 'PageConfig' });
export type PageConfig = z.infer<typeof pageConfigSchema>;
