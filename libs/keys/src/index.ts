export * from './api-key.store.ts';
