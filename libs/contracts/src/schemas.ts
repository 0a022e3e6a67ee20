export * from './events/common.schema.ts';
export * from './events/request.schema.ts';
export * from './events/inference.schema.ts';
export * from './events/knowledge.schema.ts';
export * from './events/push.schema.ts';
export * from './events/config.schema.ts';
export * from './events/budget.schema.ts';
export * from './events/user.schema.ts';
