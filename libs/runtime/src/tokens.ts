/** DI token of the app's ioredis client. */
export const REDIS = Symbol('REDIS');
/** DI token of the app's validated environment. */
export const ENV = Symbol('ENV');
/** DI token of the app's pino logger. */
export const LOGGER = Symbol('LOGGER');
/** DI token of the app's watch of the `routing` document (a DocumentWatch), where a provider needs its `catchUp`. */
export const ROUTING_WATCH = Symbol('ROUTING_WATCH');
