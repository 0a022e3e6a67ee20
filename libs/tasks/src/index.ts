export * from './task.schema.ts';
export * from './task.store.ts';
export * from './task-event.hub.ts';
export * from './session-history.store.ts';
export * from './stream-id.ts';
export * from './profile.store.ts';
export * from './tool-call.assembly.ts';
