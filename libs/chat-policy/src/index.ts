export * from './moderation/word-filter.ts';
export * from './moderation/stream-masker.ts';
export * from './moderation/moderation.service.ts';
export * from './models/model-catalog.ts';
export * from './admission/chat-admission.ts';
export * from './realtime/realtime-grant.ts';
export * from './documents.ts';
