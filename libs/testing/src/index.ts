export * from './broker.ts';
export * from './docker.ts';
export * from './redis.ts';
export * from './waiting.ts';
export * from './apps.ts';
export * from './redis-suite.ts';
