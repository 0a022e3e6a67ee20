export * from './retrieval-quality.ts';
