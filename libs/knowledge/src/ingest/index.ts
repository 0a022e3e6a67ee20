export * from './ingest.errors.ts';
export * from './text.normaliser.ts';
export * from './document.parser.ts';
export * from './text.chunker.ts';
export * from './chunk.hash.ts';
export * from './keywords.ts';
export * from './knowledge.registry.ts';
export * from './ingest.pipeline.ts';
