/** DI token of the LangChain embeddings the default classifier uses. */
export const EMBEDDINGS = Symbol('EMBEDDINGS');
