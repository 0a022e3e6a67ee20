import { z } from 'zod';

/** Passages that answer a query, best first, each with its citation (`RetrievedPassage` of @aip/knowledge). */
export const queryResponseSchema = z
  .object({
    object: z.literal('list'),
    mode: z.enum(['dense', 'fulltext', 'hybrid']),
    data: z.array(
      z.object({
        text: z.string(),
        score: z.number().meta({ description: 'Cosine, BM25 or fused RRF score by mode; higher is better.' }),
        source: z.object({ kbId: z.string(), docId: z.string(), version: z.string(), position: z.number().int(), title: z.string().optional() }),
      }),
    ),
  })
  .meta({ id: 'QueryResult' });
export type QueryResponse = z.infer<typeof queryResponseSchema>;
