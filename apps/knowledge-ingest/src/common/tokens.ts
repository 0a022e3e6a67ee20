/** DI token of the KnowledgeStore adapter (LanceDB embedded, Qdrant in production). */
export const KNOWLEDGE_STORE = Symbol('KNOWLEDGE_STORE');
