import { embeddingsConfigOf } from '@aip/embeddings';
import { knowledgeIngestEnvSchema } from './knowledge-ingest.config.ts';

describe('knowledge-ingest environment', () => {
  it('runs the embedded model in two worker sessions unless told otherwise (this service embeds in bulk)', () => {
    for (const [value, sessions] of [[undefined, 2], ['', 2], ['1', 1], ['4', 4]] as const) {
      const env = knowledgeIngestEnvSchema.parse(value === undefined ? {} : { EMBEDDINGS_SESSIONS: value });
      expect(env.EMBEDDINGS_SESSIONS).toBe(sessions);
      expect(embeddingsConfigOf(env)).toMatchObject({ provider: 'embedded', sessions });
    }
    expect(knowledgeIngestEnvSchema.safeParse({ EMBEDDINGS_SESSIONS: '0' }).success).toBe(false);
  });
});
