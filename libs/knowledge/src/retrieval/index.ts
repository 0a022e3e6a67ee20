export * from './retriever.ts';
