export * from './topology.ts';
export * from './envelope.ts';
export * from './catalog.ts';
export * from './envelope-codec.ts';
export * from './asyncapi.ts';
export * as schemas from './schemas.ts';
export * from './realtime/index.ts';
export * from './documents/intent-catalogue.schema.ts';
