import { z } from 'zod';
import { knowledgeBaseViewSchema } from '../documents/document.view.ts';

/** `GET /v1/knowledge-bases/{kb}`: the base and how many of its documents are in each status. */
export const knowledgeBaseDetailSchema = knowledgeBaseViewSchema
  .extend({ documents: z.object({ total: z.number().int() }).catchall(z.number().int()).meta({ description: 'Documents in all, and per status (queued, indexing, indexed, failed, deleting).' }) })
  .meta({ id: 'KnowledgeBaseDetail' });

/** `DELETE /v1/knowledge-bases/{kb}`: gone, with the number of chunks removed. */
export const knowledgeBaseDeletedSchema = z.object({ object: z.literal('knowledge.base'), id: z.string(), deleted: z.literal(true), chunks: z.number().int() }).meta({ id: 'KnowledgeBaseDeleted' });
