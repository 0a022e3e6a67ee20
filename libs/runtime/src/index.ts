export * from './env.config.ts';
export * from './health.controller.ts';
export * from './logger.ts';
export * from './tokens.ts';
export * from './config-documents.ts';
export * from './app.metrics.ts';
