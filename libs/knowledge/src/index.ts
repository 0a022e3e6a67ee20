export * from './store/index.ts';
export * from './ingest/index.ts';
export * from './retrieval/index.ts';
