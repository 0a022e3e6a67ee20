/** DI token of the app's pino logger. */
export const LOGGER = Symbol('LOGGER');
/** DI token of the LangChain embeddings the default classifier uses. */
export const EMBEDDINGS = Symbol('EMBEDDINGS');
