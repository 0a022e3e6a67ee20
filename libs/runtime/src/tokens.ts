/** DI token of the app's ioredis client. */
export const REDIS = Symbol('REDIS');
/** DI token of the app's validated environment. */
export const ENV = Symbol('ENV');
/** DI token of the app's pino logger. */
export const LOGGER = Symbol('LOGGER');
