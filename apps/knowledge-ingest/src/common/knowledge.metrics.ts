import { Counter, Histogram, register } from 'prom-client';

function single<T>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

/** What operators watch on the knowledge path (one registration per process). */
export const knowledgeMetrics = {
  documents: single('aip_kb_documents_total', () => new Counter({ name: 'aip_kb_documents_total', help: 'Applied knowledge changes by outcome (indexed, failed, deleted)', labelNames: ['outcome'] })),
  chunks: single('aip_kb_chunks_total', () => new Counter({ name: 'aip_kb_chunks_total', help: 'Chunks indexed, by whether their vector was embedded or reused by content hash', labelNames: ['kind'] })),
  ingestSeconds: single('aip_kb_ingest_seconds', () => new Histogram({ name: 'aip_kb_ingest_seconds', help: 'Time to index one document version', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] })),
};
